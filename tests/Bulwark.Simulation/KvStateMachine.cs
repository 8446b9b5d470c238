using System.Text;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>A sorted string map plus the set of applied request ids; serialized deterministically.</summary>
public sealed class KvStateMachine : IReplicatedStateMachine
{
    private readonly SortedDictionary<string, string> data = new(StringComparer.Ordinal);
    private readonly SortedSet<long> applied = [];

    public KvOutput? Apply(SimCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!applied.Add(command.RequestId))
        {
            return null;
        }

        var op = command.Operation;
        switch (op.Kind)
        {
            case KvOperationKind.Put:
                data[op.Key] = op.Value ?? throw new SimulationException($"put {command.RequestId} has no value");
                return KvOutput.Written;
            case KvOperationKind.CompareAndSet:
                data.TryGetValue(op.Key, out var current);
                var holds = string.Equals(current, op.Expected, StringComparison.Ordinal);
                if (holds)
                {
                    data[op.Key] = op.Value ?? throw new SimulationException($"cas {command.RequestId} has no value");
                }

                return KvOutput.Swapped(holds);
            default:
                throw new SimulationException($"command {command.RequestId} is a {op.Kind}, which is not a write");
        }
    }

    public KvOutput Read(string key) => KvOutput.Read(data.TryGetValue(key, out var value) ? value : null);

    public bool HasApplied(long requestId) => applied.Contains(requestId);

    public byte[] TakeSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(data.Count);
            foreach (var (key, value) in data)
            {
                writer.Write(key);
                writer.Write(value);
            }

            writer.Write(applied.Count);
            foreach (var id in applied)
            {
                writer.Write(id);
            }
        }

        return stream.ToArray();
    }

    public void Restore(ReadOnlySpan<byte> snapshot)
    {
        data.Clear();
        applied.Clear();
        if (snapshot.IsEmpty)
        {
            return;
        }

        using var stream = new MemoryStream(snapshot.ToArray());
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            data[key] = reader.ReadString();
        }

        var ids = reader.ReadInt32();
        for (var i = 0; i < ids; i++)
        {
            applied.Add(reader.ReadInt64());
        }
    }

    public ulong Fingerprint() => TraceHash.Of(TakeSnapshot());
}
