using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Api.V3Electionpb;
using Bulwark.Kv.Watch;
using Bulwark.Server.Api.Watches;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Api.Concurrency;

/// <summary>
/// v3electionpb.Election, as etcd serves it with its concurrency package's Election: each campaigner puts
/// name/lease-hex (its value) on its lease, and the campaigner whose key was created first leads. A LeaderKey's
/// revision is that key's create revision, so Proclaim and Resign act only while the very key that won still exists.
/// Works on any member (writes go through the log like a client's Txn; waits use this member's watches).
/// </summary>
public sealed class ElectionService(NodeHost node, WatchSyncLoop sync) : Election.ElectionBase
{
    /// <summary>The store as this call's caller sees it: every read and write inside is checked as that caller.</summary>
    private RecipeStore StoreFor(ServerCallContext context) => new(node, Auth.CallerCredentials.From(context));

    public override Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var store = StoreFor(context);
        GC.KeepAlive(sync); // a campaigner watches from a past revision: the sync loop catches such watchers up
        var cancel = context.CancellationToken;
        var lease = await store.SessionLeaseAsync(request.Lease, cancel).ConfigureAwait(false);
        var prefix = ConcurrencyKeys.Prefix(request.Name);
        var own = ConcurrencyKeys.Own(prefix, lease);
        var joined = await store.TxnAsync(new TxnRequest
        {
            Compare = { ConcurrencyKeys.CreatedAt(own, 0) },
            Success = { ConcurrencyKeys.Put(own, request.Value, lease) },
            Failure = { ConcurrencyKeys.Get(own) },
        }, cancel).ConfigureAwait(false);
        var leader = new LeaderKey { Name = request.Name, Key = own, Rev = joined.Header.Revision, Lease = lease };
        if (!joined.Succeeded)
        {
            // Campaigning again with the same lease resumes the earlier campaign, with the new value.
            var existing = joined.Responses[0].ResponseRange.Kvs[0];
            leader.Rev = existing.CreateRevision;
            if (existing.Value != request.Value)
            {
                try
                {
                    await ProclaimAsync(store, leader, request.Value, cancel).ConfigureAwait(false);
                }
                catch
                {
                    await store.CleanUpAsync(token => ResignAsync(store, leader, token)).ConfigureAwait(false);
                    throw;
                }
            }
        }

        try
        {
            await store.WaitDeletesAsync(prefix, leader.Rev - 1, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller went away while waiting: withdraw the candidacy, as etcd's Election does. (On any other
            // failure etcd leaves the key, and so does Bulwark.)
            await store.CleanUpAsync(token => ResignAsync(store, leader, token)).ConfigureAwait(false);
            throw;
        }

        // Our key may have gone while we waited (the lease expired or was revoked): then we lead nothing, and say so
        // rather than answer a leadership whose key no longer exists.
        var mine = await store.RangeAsync(new RangeRequest { Key = own }, cancel).ConfigureAwait(false);
        if (mine.Kvs.Count == 0 || mine.Kvs[0].CreateRevision != leader.Rev)
        {
            throw ConcurrencyErrors.SessionExpired();
        }

        return new CampaignResponse { Header = joined.Header, Leader = leader };
    });

    public override Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var leader = request.Leader ?? throw ConcurrencyErrors.MissingLeaderKey();
        var store = StoreFor(context);
        var lease = await store.SessionLeaseAsync(leader.Lease, context.CancellationToken).ConfigureAwait(false);
        var header = await ProclaimAsync(store, new LeaderKey(leader) { Lease = lease }, request.Value, context.CancellationToken).ConfigureAwait(false);
        return new ProclaimResponse { Header = header };
    });

    public override Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var oldest = await StoreFor(context).RangeAsync(ConcurrencyKeys.Edge(ConcurrencyKeys.Prefix(request.Name), oldest: true), context.CancellationToken).ConfigureAwait(false);
        if (oldest.Kvs.Count == 0)
        {
            throw ConcurrencyErrors.NoLeader();
        }

        return new LeaderResponse { Header = oldest.Header, Kv = oldest.Kvs[0] };
    });

    public override async Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        GC.KeepAlive(sync);
        await ConcurrencyErrors.Guard(() => ObserveAsync(StoreFor(context), request.Name, responseStream, context.CancellationToken)).ConfigureAwait(false);
    }

    public override Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context) => ConcurrencyErrors.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var leader = request.Leader ?? throw ConcurrencyErrors.MissingLeaderKey();
        // etcd's server opens a session on the leader's lease first; with none named that grants one (kept for parity).
        var store = StoreFor(context);
        await store.SessionLeaseAsync(leader.Lease, context.CancellationToken).ConfigureAwait(false);
        var header = await ResignAsync(store, leader, context.CancellationToken).ConfigureAwait(false);
        return new ResignResponse { Header = header };
    });

    /// <summary>Puts the leader's new value only while its key still exists with the create revision that won.</summary>
    private static async Task<ResponseHeader> ProclaimAsync(RecipeStore store, LeaderKey leader, ByteString value, CancellationToken cancellationToken)
    {
        var written = await store.TxnAsync(new TxnRequest
        {
            Compare = { ConcurrencyKeys.CreatedAt(leader.Key, leader.Rev) },
            Success = { ConcurrencyKeys.Put(leader.Key, value, leader.Lease) },
        }, cancellationToken).ConfigureAwait(false);
        return written.Succeeded ? written.Header : throw ConcurrencyErrors.NotLeader();
    }

    /// <summary>Deletes the leader's key if it still has the create revision that won; answers the Txn's header either way.</summary>
    private static async Task<ResponseHeader> ResignAsync(RecipeStore store, LeaderKey leader, CancellationToken cancellationToken)
    {
        var resigned = await store.TxnAsync(new TxnRequest
        {
            Compare = { ConcurrencyKeys.CreatedAt(leader.Key, leader.Rev) },
            Success = { ConcurrencyKeys.Delete(leader.Key) },
        }, cancellationToken).ConfigureAwait(false);
        return resigned.Header;
    }

    /// <summary>
    /// etcd's Election.observe: the current leader's key-value pair (or, with none, the first key put under the prefix),
    /// then each change of that key's value, until it is deleted; then the next leader, and so on.
    /// </summary>
    private async Task<bool> ObserveAsync(RecipeStore store, ByteString name, IServerStreamWriter<LeaderResponse> stream, CancellationToken cancel)
    {
        var prefix = ConcurrencyKeys.Prefix(name);
        while (!cancel.IsCancellationRequested)
        {
            var oldest = await store.RangeAsync(ConcurrencyKeys.Edge(prefix, oldest: true), cancel).ConfigureAwait(false);
            KeyValue? kv = oldest.Kvs.Count > 0 ? oldest.Kvs[0] : null;
            long revision = oldest.Header.Revision;
            if (kv is null)
            {
                await foreach (var delivery in store.WatchAsync(new WatchOptions(prefix, ConcurrencyKeys.PrefixEnd(prefix), revision, NoDelete: true), cancel)
                    .ConfigureAwait(false))
                {
                    kv = delivery.Events[0].Kv;
                    revision = kv.ModRevision;
                    break;
                }

                if (kv is null)
                {
                    return false;
                }
            }

            await stream.WriteAsync(new LeaderResponse { Header = ApiContext.Header(node, null, revision), Kv = kv }, cancel).ConfigureAwait(false);
            await foreach (var delivery in store.WatchAsync(new WatchOptions(kv.Key, ByteString.Empty, revision + 1), cancel).ConfigureAwait(false))
            {
                if (await SendUntilDeletedAsync(delivery, stream, cancel).ConfigureAwait(false))
                {
                    break;
                }
            }
        }

        return true;
    }

    /// <summary>Sends each put of a delivery; true when the delivery holds the key's deletion (the leadership ended).</summary>
    private async Task<bool> SendUntilDeletedAsync(WatchDelivery delivery, IServerStreamWriter<LeaderResponse> stream, CancellationToken cancel)
    {
        foreach (var ev in delivery.Events)
        {
            if (ev.Type == Event.Types.EventType.Delete)
            {
                return true;
            }

            await stream.WriteAsync(new LeaderResponse { Header = ApiContext.Header(node, null, delivery.Revision), Kv = ev.Kv }, cancel).ConfigureAwait(false);
        }

        return false;
    }
}
