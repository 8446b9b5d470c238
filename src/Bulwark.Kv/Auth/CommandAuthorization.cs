using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;

namespace Bulwark.Kv.Auth;

/// <summary>
/// The apply-time permission check of a command a client call proposed (etcd's authApplierV3): run by every member
/// on the replicated auth state before the command touches anything, so a refused command changes nothing anywhere.
/// Commands the member makes itself (lease expiry, alarms) carry no caller and are not checked.
/// </summary>
public static class CommandAuthorization
{
    /// <exception cref="Errors.KvException">The caller may not do this (etcd's auth error for it).</exception>
    public static void Check(RaftCommand command, MvccStore store)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(store);
        var auth = store.Auth;
        if (command.Header?.Caller is not { } caller || !auth.Enabled)
        {
            return;
        }

        string user = caller.User;
        ulong revision = caller.AuthRevision;
        switch (command.RequestCase)
        {
            case RaftCommand.RequestOneofCase.Put:
                CheckPut(auth, store, user, revision, command.Put);
                break;
            case RaftCommand.RequestOneofCase.DeleteRange:
                CheckDelete(auth, user, revision, command.DeleteRange);
                break;
            case RaftCommand.RequestOneofCase.Txn:
                CheckTxn(auth, store, user, revision, command.Txn);
                break;
            case RaftCommand.RequestOneofCase.LeaseRevoke:
                CheckLeaseKeys(auth, store, user, revision, command.LeaseRevoke.ID);
                break;
            case RaftCommand.RequestOneofCase.LeaseGrant:
            case RaftCommand.RequestOneofCase.Authenticate:
                // etcd checks neither: a lease holds no key until a permitted put attaches one.
                break;
            case RaftCommand.RequestOneofCase.Compaction:
                // etcd 3.4 lets any user compact (seen side by side); Bulwark asks at least for a known one.
                auth.CheckAuthenticated(user);
                break;
            default:
                // Alarms and every change of users, roles or the auth switch need the root role.
                auth.CheckAdmin(user);
                break;
        }
    }

    /// <summary>etcd's checkTxnAuth: every compare is a read, every operation inside (nested txns too) is checked.</summary>
    public static void CheckTxn(AuthStore auth, MvccStore store, string user, ulong revision, TxnRequest txn)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(txn);
        foreach (var compare in txn.Compare)
        {
            auth.CheckRead(user, revision, compare.Key.Span, compare.RangeEnd.Span);
        }

        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange:
                    auth.CheckRead(user, revision, op.RequestRange.Key.Span, op.RequestRange.RangeEnd.Span);
                    break;
                case RequestOp.RequestOneofCase.RequestPut:
                    CheckPut(auth, store, user, revision, op.RequestPut);
                    break;
                case RequestOp.RequestOneofCase.RequestDeleteRange:
                    CheckDelete(auth, user, revision, op.RequestDeleteRange);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckTxn(auth, store, user, revision, op.RequestTxn);
                    break;
            }
        }
    }

    private static void CheckPut(AuthStore auth, MvccStore store, string user, ulong revision, PutRequest put)
    {
        auth.CheckWrite(user, revision, put.Key.Span, default);
        if (put.PrevKv)
        {
            auth.CheckRead(user, revision, put.Key.Span, default);
        }

        if (put.Lease != 0)
        {
            // etcd's checkLeasePuts: attaching to a lease lets its revoke delete the lease's other keys.
            CheckLeaseKeys(auth, store, user, revision, put.Lease);
        }
    }

    private static void CheckDelete(AuthStore auth, string user, ulong revision, DeleteRangeRequest delete)
    {
        if (delete.PrevKv)
        {
            auth.CheckRead(user, revision, delete.Key.Span, delete.RangeEnd.Span);
        }

        auth.CheckWrite(user, revision, delete.Key.Span, delete.RangeEnd.Span);
    }

    private static void CheckLeaseKeys(AuthStore auth, MvccStore store, string user, ulong revision, long leaseId)
    {
        if (store.TryGetLease(leaseId, out var lease) && lease is not null)
        {
            foreach (var key in lease.Keys)
            {
                auth.CheckWrite(user, revision, key, default);
            }
        }
    }
}
