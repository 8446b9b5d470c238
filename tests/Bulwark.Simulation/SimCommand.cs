using System.Text;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// A client write as it travels through the log: the client's request id (unique per operation, so the host
/// can find the waiting call when the entry is applied) and the operation itself.
/// </summary>
public sealed record SimCommand(long RequestId, KvInput Operation)
{
    /// <summary>Further puts and deletes on other keys, applied with <see cref="Operation"/> in one Txn (one revision).</summary>
    public IReadOnlyList<KvInput> Others { get; init; } = [];

    /// <summary>The user the call is made as (auth runs); null: no caller is attached, as in runs without auth.</summary>
    public string? User { get; init; }

    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(RequestId);
            writer.Write((byte)Operation.Kind);
            WriteString(writer, Operation.Key);
            WriteString(writer, Operation.Value);
            WriteString(writer, Operation.Expected);
        }

        return stream.ToArray();
    }

    public static SimCommand Decode(ReadOnlyMemory<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray());
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var id = reader.ReadInt64();
        var kind = (KvOperationKind)reader.ReadByte();
        var key = ReadString(reader) ?? throw new FormatException($"command {id} has no key");
        var value = ReadString(reader);
        var expected = ReadString(reader);
        return new SimCommand(id, new KvInput(kind, key, value, expected));
    }

    internal static void WriteString(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    internal static string? ReadString(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
