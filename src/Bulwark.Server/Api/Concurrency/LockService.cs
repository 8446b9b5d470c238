using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V3Lockpb;
using Bulwark.Server.Api.Watches;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api.Concurrency;

/// <summary>
/// v3lockpb.Lock, as etcd serves it with its concurrency package's Mutex: each waiter puts name/lease-hex on its lease,
/// and the one whose key was created first holds the lock; the others wait, each for the deletion of the waiter just
/// ahead of it. Works on any member (writes go through the log like a client's Txn; waits use this member's watches).
/// </summary>
public sealed class LockService(NodeHost node, WatchSyncLoop sync) : Bulwark.Api.V3Lockpb.Lock.LockBase
{
    /// <summary>The store as this call's caller sees it: every read and write inside is checked as that caller.</summary>
    private RecipeStore StoreFor(ServerCallContext context) => new(node, Auth.CallerCredentials.From(context));

    public override Task<LockResponse> Lock(LockRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var store = StoreFor(context);
        GC.KeepAlive(sync); // a waiter watches from a past revision: the sync loop catches such watchers up
        var cancel = context.CancellationToken;
        var lease = await store.SessionLeaseAsync(request.Lease, cancel).ConfigureAwait(false);
        var prefix = ConcurrencyKeys.Prefix(request.Name);
        var own = ConcurrencyKeys.Own(prefix, lease);
        var owner = ConcurrencyKeys.Get(ConcurrencyKeys.Edge(prefix, oldest: true));

        // Join the waiters, or find our key from an earlier Lock with the same lease (locking twice is one acquisition).
        var joined = await store.TxnAsync(new TxnRequest
        {
            Compare = { ConcurrencyKeys.CreatedAt(own, 0) },
            Success = { ConcurrencyKeys.Put(own, Google.Protobuf.ByteString.Empty, lease), owner },
            Failure = { ConcurrencyKeys.Get(own), owner },
        }, cancel).ConfigureAwait(false);
        var myRevision = joined.Succeeded ? joined.Header.Revision : joined.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var oldest = joined.Responses[1].ResponseRange.Kvs;
        if (oldest.Count == 0 || oldest[0].CreateRevision == myRevision)
        {
            return new LockResponse { Header = joined.Header, Key = own };
        }

        ResponseHeader header;
        try
        {
            await store.WaitDeletesAsync(prefix, myRevision - 1, cancel).ConfigureAwait(false);
            // Our own key may have gone meanwhile (the lease expired or was revoked): then we hold nothing. etcd 3.4
            // answers success here anyway; etcd 3.5 answers "session expired", and so does Bulwark.
            var mine = await store.RangeAsync(new RangeRequest { Key = own }, cancel).ConfigureAwait(false);
            if (mine.Kvs.Count == 0 || mine.Kvs[0].CreateRevision != myRevision)
            {
                throw ConcurrencyErrors.SessionExpired();
            }

            header = mine.Header;
        }
        catch (Exception e) when (e is not RpcException { Status.Detail: ConcurrencyErrors.SessionExpiredMessage })
        {
            // The waiter gave up (the caller went away, or the wait failed): leave the queue, as etcd's Mutex does.
            await store.CleanUpAsync(token => store.DeleteAsync(own, token)).ConfigureAwait(false);
            throw;
        }

        return new LockResponse { Header = header, Key = own };
    });

    public override Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var deleted = await StoreFor(context).DeleteAsync(request.Key, context.CancellationToken).ConfigureAwait(false);
        return new UnlockResponse { Header = deleted.Header };
    });
}
