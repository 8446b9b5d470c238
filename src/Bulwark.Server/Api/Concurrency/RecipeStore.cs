using System.Runtime.CompilerServices;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Watch;
using Bulwark.Server.Api.Auth;
using Bulwark.Server.Api.Leases;
using Bulwark.Server.Hosting;
using Google.Protobuf;

namespace Bulwark.Server.Api.Concurrency;

/// <summary>
/// What the Lock and Election services do to the store, through the same paths the KV and Lease services answer by
/// (so a follower forwards writes and confirms reads exactly as for a client's own KV call), and the waits of etcd's
/// concurrency recipes on this member's watch hub: a waiter is woken by the event, never by polling.
/// </summary>
internal sealed class RecipeStore(NodeHost node, CallerCredentials caller)
{
    /// <summary>etcd's session TTL (concurrency.defaultSessionTTL) for the lease it grants when a call names none.</summary>
    public const long DefaultSessionTtlSeconds = 60;

    public NodeHost Node => node;

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        KvService.TxnAsync(node, request, caller, cancellationToken);

    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken) =>
        KvService.RangeAsync(node, request, caller, cancellationToken);

    public Task<DeleteRangeResponse> DeleteAsync(ByteString key, CancellationToken cancellationToken) =>
        KvService.DeleteRangeAsync(node, new DeleteRangeRequest { Key = key }, caller, cancellationToken);

    /// <summary>
    /// The lease a call's participant uses: the one it named, or, when it named none (0), a new lease of etcd's session
    /// TTL, as etcd's server does (its concurrency session grants one and then leaves it to expire).
    /// </summary>
    public async Task<long> SessionLeaseAsync(long lease, CancellationToken cancellationToken)
    {
        if (lease != 0)
        {
            return lease;
        }

        var granted = await LeaseService.GrantAsync(node, new LeaseGrantRequest { TTL = DefaultSessionTtlSeconds }, caller, cancellationToken).ConfigureAwait(false);
        return granted.ID;
    }

    /// <summary>
    /// Best effort cleanup after a call gave up (the caller went away, a wait failed): runs on its own, bounded by the
    /// node's request timeout rather than by the caller's token, and ignores a failure as etcd does.
    /// </summary>
    public async Task CleanUpAsync(Func<CancellationToken, Task> cleanup)
    {
        try
        {
            await cleanup(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KvException or NodeException or Grpc.Core.RpcException or OperationCanceledException)
        {
            // The key stays until its lease ends, as with etcd when its cleanup fails.
        }
    }

    /// <summary>
    /// etcd's waitDeletes: until no key under <paramref name="prefix"/> was created at or before
    /// <paramref name="maxCreateRevision"/>, waits for the deletion of the newest such key. Answers the header of the
    /// read that found none left.
    /// </summary>
    public async Task<ResponseHeader> WaitDeletesAsync(ByteString prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            var newest = await RangeAsync(ConcurrencyKeys.Edge(prefix, oldest: false, maxCreateRevision), cancellationToken).ConfigureAwait(false);
            if (newest.Kvs.Count == 0)
            {
                return newest.Header;
            }

            await WaitDeleteAsync(newest.Kvs[0].Key, newest.Header.Revision, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for a deletion of <paramref name="key"/> at or after <paramref name="fromRevision"/>.</summary>
    public async Task WaitDeleteAsync(ByteString key, long fromRevision, CancellationToken cancellationToken)
    {
        await foreach (var delivery in WatchAsync(new WatchOptions(key, ByteString.Empty, fromRevision, NoPut: true), cancellationToken).ConfigureAwait(false))
        {
            if (delivery.Events.Any(e => e.Type == Event.Types.EventType.Delete))
            {
                return;
            }
        }

        throw ConcurrencyErrors.LostWatcher();
    }

    /// <summary>
    /// The deliveries of a watcher on this member's hub, until the caller stops; a compaction of the history it needs
    /// ends it with etcd's "required revision has been compacted".
    /// </summary>
    public async IAsyncEnumerable<WatchDelivery> WatchAsync(WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        AuthGate.CheckRead(node, caller, options.Key, options.RangeEnd);
        var (watcher, _) = node.Watches.Register(options);
        try
        {
            while (await watcher.ReadAsync(cancellationToken).ConfigureAwait(false) is { } delivery)
            {
                if (delivery.IsCompacted)
                {
                    throw KvErrors.Compacted();
                }

                yield return delivery;
            }
        }
        finally
        {
            node.Watches.Cancel(watcher.Id);
        }
    }
}
