using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Bulwark.Kv.Auth;
using Bulwark.Server.Api.Auth;
using Bulwark.Verification;
using Google.Protobuf;

namespace Bulwark.Simulation;

/// <summary>
/// The simulator's clients speak to the production host as the gRPC API does: a put becomes a <see cref="RaftCommand"/>
/// Put, a delete a DeleteRange of one key, a compare-and-set a Txn (compare the value, or for "absent" the create
/// revision against 0, then put) whose <c>succeeded</c> is the swap's outcome, a multi-key write one Txn of puts and
/// deletes; reads are MVCC ranges of the shipped store, or read-only Txns of several ranges (as the API serves them).
/// </summary>
public static class SimCommandTranslation
{
    /// <summary>Every workload key starts with this; the liveness probe's key does not.</summary>
    public const string KeyPrefix = "k";

    /// <summary>The command a node proposes for a client write; <paramref name="origin"/> is the member that waits for it.</summary>
    /// <param name="txnIgnoresCompare">Sabotage: the compare-and-set's Txn is sent without its compare.</param>
    /// <param name="caller">Who calls, as the receiving member resolved it (auth runs); the state machine checks it.</param>
    public static RaftCommand ToRaftCommand(SimCommand command, ulong origin, bool txnIgnoresCompare, CallerAuth? caller = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        var raftCommand = ToRaftCommand(command, txnIgnoresCompare);
        raftCommand.Header = new CommandHeader { OriginMemberId = origin, Caller = caller };
        return raftCommand;
    }

    /// <summary>A compaction at <paramref name="revision"/> (a maintenance write no client waits for).</summary>
    public static RaftCommand Compaction(ulong requestId, ulong origin, long revision, CallerAuth? caller = null) => new()
    {
        RequestId = requestId,
        Header = new CommandHeader { OriginMemberId = origin, Caller = caller },
        Compaction = new CompactionRequest { Revision = revision },
    };

    /// <summary>
    /// The caller as the API resolves it for <paramref name="user"/> (the path of a verified client certificate's
    /// common name, which needs no login): the user and the auth revision it was looked up at; null for no user.
    /// </summary>
    public static CallerAuth? Caller(MvccStore store, string? user)
    {
        ArgumentNullException.ThrowIfNull(store);
        return user is null ? null : new CallerCredentials(null, user).Resolve(store.Auth);
    }

    /// <summary>
    /// Whether an apply or read error is an auth refusal a client may get (and the call certainly had no effect):
    /// permission denied; stale more often than the API retries; or "user name is empty", which a command gets when the
    /// member that proposed it had not yet applied auth enable (it attached no user, as etcd's member does then).
    /// </summary>
    public static bool IsAuthRefusal(string message) =>
        message is AuthErrors.PermissionDeniedMessage or AuthErrors.AuthOldRevisionMessage or AuthErrors.UserEmptyMessage;

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
            KvOperationKind.CompareAndSet => KvOutput.Swapped(((TxnResponse)result.Response!).Succeeded),
            _ => KvOutput.Written,
        };
    }

    /// <summary>A key's current value in the store, and the store's revision.</summary>
    /// <exception cref="Bulwark.Kv.Errors.KvException">Auth is on and <paramref name="user"/> may not read the key (checked as the API does).</exception>
    public static (KvOutput Output, long Revision) Read(MvccStore store, string key, string? user = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key) };
        CheckRange(store, user, request);
        var response = store.Range(request);
        return (KvOutput.Read(response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8()), response.Header.Revision);
    }

    /// <summary>
    /// Several keys' values at one revision: with <paramref name="asTxn"/> a read-only Txn of one range per key (its
    /// compare, the first key's mod revision below the largest, always holds), otherwise one prefix range over every workload key.
    /// </summary>
    public static (IReadOnlyList<KvOutput> Outputs, long Revision) ReadMany(MvccStore store, IReadOnlyList<string> keys, bool asTxn, string? user = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        long revision;
        if (asTxn)
        {
            var txn = new TxnRequest
            {
                Compare =
                {
                    new Compare
                    {
                        Key = ByteString.CopyFromUtf8(keys[0]),
                        Target = Compare.Types.CompareTarget.Mod,
                        Result = Compare.Types.CompareResult.Less,
                        ModRevision = long.MaxValue,
                    },
                },
            };
            foreach (var key in keys)
            {
                txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key) } });
            }

            if (Caller(store, user) is { } who && store.Auth.Enabled)
            {
                CommandAuthorization.CheckTxn(store.Auth, store, who.User, who.AuthRevision, txn);
            }

            var response = store.ReadOnlyTxn(txn);
            if (!response.Succeeded)
            {
                throw new SimulationException($"a read-only txn's compare (mod < max) failed on {keys[0]}");
            }

            foreach (var op in response.Responses)
            {
                foreach (var kv in op.ResponseRange.Kvs)
                {
                    values[kv.Key.ToStringUtf8()] = kv.Value.ToStringUtf8();
                }
            }

            revision = response.Header.Revision;
        }
        else
        {
            var request = new RangeRequest
            {
                Key = ByteString.CopyFromUtf8(KeyPrefix),
                RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(KeyPrefix)),
            };
            CheckRange(store, user, request);
            var response = store.Range(request);
            foreach (var kv in response.Kvs)
            {
                values[kv.Key.ToStringUtf8()] = kv.Value.ToStringUtf8();
            }

            revision = response.Header.Revision;
        }

        return (keys.Select(k => KvOutput.Read(values.GetValueOrDefault(k))).ToList(), revision);
    }

    /// <summary>The API's read check (etcd's IsRangePermitted), made where the read is served, as AuthGate makes it.</summary>
    private static void CheckRange(MvccStore store, string? user, RangeRequest request)
    {
        if (Caller(store, user) is { } who)
        {
            store.Auth.CheckRead(who.User, who.AuthRevision, request.Key.Span, request.RangeEnd.Span);
        }
    }

    public static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    private static RaftCommand ToRaftCommand(SimCommand command, bool txnIgnoresCompare)
    {
        var op = command.Operation;
        var raftCommand = new RaftCommand { RequestId = (ulong)command.RequestId };
        if (command.Others.Count > 0)
        {
            // A multi-key write: one Txn, no compare, every operation at one revision.
            var txn = new TxnRequest();
            foreach (var part in command.Others.Prepend(op))
            {
                txn.Success.Add(part.Kind switch
                {
                    KvOperationKind.Put => new RequestOp { RequestPut = Put(part, command.RequestId) },
                    KvOperationKind.Delete => new RequestOp { RequestDeleteRange = Delete(part) },
                    _ => throw new SimulationException($"command {command.RequestId}: a {part.Kind} cannot be part of a multi-key write"),
                });
            }

            raftCommand.Txn = txn;
            return raftCommand;
        }

        switch (op.Kind)
        {
            case KvOperationKind.Put:
                raftCommand.Put = Put(op, command.RequestId);
                break;
            case KvOperationKind.Delete:
                raftCommand.DeleteRange = Delete(op);
                break;
            case KvOperationKind.CompareAndSet:
                var txn = new TxnRequest();
                if (!txnIgnoresCompare)
                {
                    txn.Compare.Add(ExpectCurrent(op.Key, op.Expected));
                }

                txn.Success.Add(new RequestOp { RequestPut = Put(op, command.RequestId) });
                raftCommand.Txn = txn;
                break;
            default:
                throw new SimulationException($"command {command.RequestId} is a {op.Kind}, which is not a write");
        }

        return raftCommand;
    }

    private static PutRequest Put(KvInput op, long requestId) => new()
    {
        Key = ByteString.CopyFromUtf8(op.Key),
        Value = ByteString.CopyFromUtf8(op.Value ?? throw new SimulationException($"{op.Kind} {requestId} has no value")),
    };

    private static DeleteRangeRequest Delete(KvInput op) => new() { Key = ByteString.CopyFromUtf8(op.Key) };

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
