using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Bulwark.Verification;
using Google.Protobuf;

namespace Bulwark.Simulation;

/// <summary>
/// The simulator's clients speak to the production host as the gRPC API does: a put becomes a <see cref="RaftCommand"/>
/// Put, a compare-and-set a Txn (compare the value, or for "absent" the create revision against 0, then put) whose
/// <c>succeeded</c> is the swap's outcome, and reads are MVCC ranges of the shipped store.
/// </summary>
public static class SimCommandTranslation
{
    /// <summary>The command a node proposes for a client write; <paramref name="origin"/> is the member that waits for it.</summary>
    /// <param name="txnIgnoresCompare">Sabotage: the compare-and-set's Txn is sent without its compare.</param>
    public static RaftCommand ToRaftCommand(SimCommand command, ulong origin, bool txnIgnoresCompare)
    {
        ArgumentNullException.ThrowIfNull(command);
        var raftCommand = ToRaftCommand(command, txnIgnoresCompare);
        raftCommand.Header = new CommandHeader { OriginMemberId = origin };
        return raftCommand;
    }

    /// <summary>What the client is told once its command was applied.</summary>
    public static KvOutput ToOutput(SimCommand command, ApplyResult result)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(result);
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

    /// <summary>A key's current value in the store.</summary>
    public static KvOutput Read(MvccStore store, string key)
    {
        ArgumentNullException.ThrowIfNull(store);
        var response = store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return KvOutput.Read(response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8());
    }

    private static RaftCommand ToRaftCommand(SimCommand command, bool txnIgnoresCompare)
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
