using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Google.Protobuf;

namespace Bulwark.Kv.Validation;

/// <summary>
/// The checks etcd makes before it accepts a request, with etcd's errors. The API layer calls
/// <see cref="ValidateProposal"/> (or the per-request methods) before proposing; the store
/// repeats the limit-independent checks when applying, so a malformed command that reaches the
/// log is refused the same way on every member instead of corrupting the store.
/// </summary>
public static class RequestValidator
{
    /// <summary>Every check, including the configured limits, for a command about to be proposed.</summary>
    public static void ValidateProposal(RaftCommand command, KvLimits limits)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(limits);
        switch (command.RequestCase)
        {
            case RaftCommand.RequestOneofCase.Put:
                ValidatePut(command.Put);
                break;
            case RaftCommand.RequestOneofCase.DeleteRange:
                ValidateDeleteRange(command.DeleteRange);
                break;
            case RaftCommand.RequestOneofCase.Txn:
                ValidateTxn(command.Txn, limits.MaxTxnOps);
                break;
            case RaftCommand.RequestOneofCase.Compaction:
            case RaftCommand.RequestOneofCase.LeaseGrant:
            case RaftCommand.RequestOneofCase.LeaseRevoke:
                break;
            case RaftCommand.RequestOneofCase.AuthEnable:
            case RaftCommand.RequestOneofCase.AuthDisable:
            case RaftCommand.RequestOneofCase.Authenticate:
            case RaftCommand.RequestOneofCase.UserAdd:
            case RaftCommand.RequestOneofCase.UserDelete:
            case RaftCommand.RequestOneofCase.UserChangePassword:
            case RaftCommand.RequestOneofCase.UserGrantRole:
            case RaftCommand.RequestOneofCase.UserRevokeRole:
            case RaftCommand.RequestOneofCase.RoleAdd:
            case RaftCommand.RequestOneofCase.RoleDelete:
            case RaftCommand.RequestOneofCase.RoleGrantPermission:
            case RaftCommand.RequestOneofCase.RoleRevokePermission:
                // The auth store checks names and permissions when applying (Auth/AuthStore), as etcd's does.
                break;
            case RaftCommand.RequestOneofCase.Alarm:
                if (command.Alarm.Action == Bulwark.Api.Etcdserverpb.AlarmRequest.Types.AlarmAction.Get || command.Alarm.Alarm == Bulwark.Api.Etcdserverpb.AlarmType.None)
                {
                    // Only a change goes through the log; the store refuses NONE alike when applying.
                    throw KvErrors.UnknownAlarm(command.Alarm.Alarm);
                }

                break;
            default:
                throw KvErrors.EmptyCommand();
        }

        ValidateSize(command, limits.MaxRequestBytes);
    }

    /// <summary>Refuses a message whose encoding exceeds <paramref name="maxRequestBytes"/>.</summary>
    public static void ValidateSize(IMessage message, int maxRequestBytes)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.CalculateSize() > maxRequestBytes)
        {
            throw KvErrors.RequestTooLarge();
        }
    }

    public static void ValidateRange(RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
        {
            throw KvErrors.EmptyKey();
        }
    }

    public static void ValidatePut(PutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
        {
            throw KvErrors.EmptyKey();
        }

        if (request.IgnoreValue && !request.Value.IsEmpty)
        {
            throw KvErrors.ValueProvided();
        }

        if (request.IgnoreLease && request.Lease != 0)
        {
            throw KvErrors.LeaseProvided();
        }
    }

    public static void ValidateDeleteRange(DeleteRangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
        {
            throw KvErrors.EmptyKey();
        }
    }

    /// <summary>
    /// Operation count (at most <paramref name="maxTxnOps"/> compares, success ops or failure ops,
    /// nested txns counted against what the outer level leaves), keys present, and no key written
    /// twice on one path.
    /// </summary>
    public static void ValidateTxn(TxnRequest request, int maxTxnOps)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckTxn(request, maxTxnOps);
        TxnOverlapCheck.Check(request.Success);
        TxnOverlapCheck.Check(request.Failure);
    }

    private static void CheckTxn(TxnRequest request, int maxTxnOps)
    {
        int opCount = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (opCount > maxTxnOps)
        {
            throw KvErrors.TooManyOps();
        }

        foreach (var compare in request.Compare)
        {
            if (compare.Key.IsEmpty)
            {
                throw KvErrors.EmptyKey();
            }
        }

        foreach (var op in request.Success)
        {
            CheckOp(op, maxTxnOps - opCount);
        }

        foreach (var op in request.Failure)
        {
            CheckOp(op, maxTxnOps - opCount);
        }
    }

    private static void CheckOp(RequestOp op, int maxTxnOps)
    {
        switch (op.RequestCase)
        {
            case RequestOp.RequestOneofCase.RequestRange:
                ValidateRange(op.RequestRange);
                break;
            case RequestOp.RequestOneofCase.RequestPut:
                ValidatePut(op.RequestPut);
                break;
            case RequestOp.RequestOneofCase.RequestDeleteRange:
                ValidateDeleteRange(op.RequestDeleteRange);
                break;
            case RequestOp.RequestOneofCase.RequestTxn:
                CheckTxn(op.RequestTxn, maxTxnOps);
                break;
            default:
                // etcd answers an empty operation with "key not found".
                throw KvErrors.KeyNotFound();
        }
    }
}
