using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Verification;
using Google.Protobuf;
using ShippedKv = Bulwark.Kv.KvStateMachine;

namespace Bulwark.Simulation;

/// <summary>
/// The shipped key-value store (Bulwark.Kv's MVCC state machine) behind the simulator's interface, so seeded runs
/// check what ships: a put becomes a <see cref="RaftCommand"/> Put, a compare-and-set becomes a Txn (compare the
/// value, or for "absent" the create revision against 0, then put) whose <c>succeeded</c> is the swap's outcome,
/// and reads are MVCC ranges. Commands are applied from their serialized bytes, as a server applies log entries.
/// The store knows nothing of request ids, so exactly-once application is kept here, as in <see cref="KvStateMachine"/>.
/// </summary>
public sealed class EtcdKvStateMachine(bool txnIgnoresCompare = false) : IReplicatedStateMachine
{
    private readonly SortedSet<long> applied = [];
    private ShippedKv kv = new() { CollectEvents = false };

    public KvOutput? Apply(SimCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!applied.Add(command.RequestId))
        {
            return null;
        }

        var raftCommand = ToRaftCommand(command);
        var result = kv.Apply(raftCommand.ToByteArray());
        if (result.Error is { } error)
        {
            throw new SimulationException($"the store refused {command.Operation.Kind} {command.RequestId}: {error.Message}");
        }

        return command.Operation.Kind switch
        {
            KvOperationKind.Put => KvOutput.Written,
            _ => KvOutput.Swapped(((TxnResponse)result.Response!).Succeeded),
        };
    }

    public KvOutput Read(string key)
    {
        var response = kv.Store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return KvOutput.Read(response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8());
    }

    public bool HasApplied(long requestId) => applied.Contains(requestId);

    /// <summary>The applied request ids, then the store's own snapshot.</summary>
    public byte[] TakeSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(applied.Count);
            foreach (var id in applied)
            {
                writer.Write(id);
            }
        }

        kv.WriteSnapshot(stream);
        return stream.ToArray();
    }

    public void Restore(ReadOnlySpan<byte> snapshot)
    {
        applied.Clear();
        if (snapshot.IsEmpty)
        {
            kv = new ShippedKv { CollectEvents = false };
            return;
        }

        using var stream = new MemoryStream(snapshot.ToArray());
        using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var ids = reader.ReadInt32();
            for (var i = 0; i < ids; i++)
            {
                applied.Add(reader.ReadInt64());
            }
        }

        kv.RestoreSnapshot(stream);
    }

    public ulong Fingerprint() => TraceHash.Of(TakeSnapshot());

    private RaftCommand ToRaftCommand(SimCommand command)
    {
        var op = command.Operation;
        var put = new PutRequest
        {
            Key = ByteString.CopyFromUtf8(op.Key),
            Value = ByteString.CopyFromUtf8(op.Value ?? throw new SimulationException($"{op.Kind} {command.RequestId} has no value")),
        };
        var raftCommand = new RaftCommand { RequestId = (ulong)command.RequestId };
        switch (op.Kind)
        {
            case KvOperationKind.Put:
                raftCommand.Put = put;
                break;
            case KvOperationKind.CompareAndSet:
                var txn = new TxnRequest();
                if (!txnIgnoresCompare)
                {
                    txn.Compare.Add(ExpectCurrent(op.Key, op.Expected));
                }

                txn.Success.Add(new RequestOp { RequestPut = put });
                raftCommand.Txn = txn;
                break;
            default:
                throw new SimulationException($"command {command.RequestId} is a {op.Kind}, which is not a write");
        }

        return raftCommand;
    }

    /// <summary>The value equals <paramref name="expected"/>, or (null) the key does not exist: create revision 0.</summary>
    private static Compare ExpectCurrent(string key, string? expected) => expected is null
        ? new Compare
        {
            Key = ByteString.CopyFromUtf8(key),
            Target = Compare.Types.CompareTarget.Create,
            Result = Compare.Types.CompareResult.Equal,
            CreateRevision = 0,
        }
        : new Compare
        {
            Key = ByteString.CopyFromUtf8(key),
            Target = Compare.Types.CompareTarget.Value,
            Result = Compare.Types.CompareResult.Equal,
            Value = ByteString.CopyFromUtf8(expected),
        };
}
