using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api.Leases;

/// <summary>
/// etcdserverpb.Lease. Grants and revokes go through the log; the leader alone keeps deadlines
/// (<see cref="LeaseKeeper"/>), so keep-alives and remaining TTLs are answered by the leader and forwarded to it from
/// followers, as in etcd. Listing leases is answered from this member's store. A keep-alive stream may opt in to
/// releasing its leases when its client goes away (<see cref="ReleaseOnDisconnect"/>).
/// </summary>
public sealed class LeaseService(NodeHost node, LeaderChannels leaders, IHostApplicationLifetime lifetime, ILogger<LeaseService> logger) : Lease.LeaseBase
{
    /// <summary>etcd's smallest TTL: a lease must outlive an election (1.5 election timeouts, in whole seconds).</summary>
    public static long MinTtlSeconds(NodeHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (long)Math.Ceiling(options.ElectionTimeout.TotalSeconds * 1.5);
    }

    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
        ApiContext.Guard(() => GrantAsync(node, request, Auth.CallerCredentials.From(context), context.CancellationToken));

    /// <summary>A grant as the Lease service answers it (the Lock and Election services grant a session's lease through it).</summary>
    internal static async Task<LeaseGrantResponse> GrantAsync(NodeHost node, LeaseGrantRequest request, Auth.CallerCredentials caller, CancellationToken cancellationToken)
    {
        var grant = new LeaseGrantRequest { ID = request.ID, TTL = Math.Max(request.TTL, MinTtlSeconds(node.Options)) };
        var (response, revision) = await ApiContext.ProposeAsync<LeaseGrantResponse>(node, new RaftCommand { LeaseGrant = grant }, caller, cancellationToken).ConfigureAwait(false);
        node.Leases.Renew(response.ID, response.TTL); // on the leader the clock starts at the grant (a follower's leader picks it up)
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    }

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        var (response, revision) = await ApiContext.ProposeAsync<LeaseRevokeResponse>(node, new RaftCommand { LeaseRevoke = request }, context).ConfigureAwait(false);
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    });

    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream,
        ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var binding = ReleaseOnDisconnect.For(context);
        var clientLeft = false;
        try
        {
            while (true)
            {
                if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
                {
                    clientLeft = true; // the client closed its side: it is done with these leases
                    break;
                }

                var id = requestStream.Current.ID;
                binding?.Bind(id);
                var response = await ApiContext.Guard(() => KeepAliveOnceAsync(id, context)).ConfigureAwait(false);
                await responseStream.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception) when (binding is not null && context.CancellationToken.IsCancellationRequested)
        {
            // The call was aborted under us: the client cancelled it or its connection closed (FIN or RST). The server
            // aborts calls itself only when stopping, which the release below tells apart.
            clientLeft = true;
            throw;
        }
        finally
        {
            if (binding is not null && clientLeft && !lifetime.ApplicationStopping.IsCancellationRequested)
            {
                await binding.ReleaseAsync(node, logger).ConfigureAwait(false);
            }
        }
    }

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        if (node.Leases.IsLeading)
        {
            var lease = node.Read(s => s.TryGetLease(request.ID, out var found) ? found : null);
            if (lease is null)
            {
                return new LeaseTimeToLiveResponse { Header = ApiContext.Header(node, null), ID = request.ID, TTL = -1 };
            }

            if (node.Leases.RemainingSeconds(request.ID, lease.GrantedTtl) is { } remaining)
            {
                var response = new LeaseTimeToLiveResponse { Header = ApiContext.Header(node, null), ID = request.ID, TTL = remaining, GrantedTTL = lease.GrantedTtl };
                if (request.Keys)
                {
                    response.Keys.AddRange(lease.Keys.Select(Google.Protobuf.ByteString.CopyFrom));
                }

                return response;
            }
        }

        var invoker = Forwardable(context);
        return await new Lease.LeaseClient(invoker).LeaseTimeToLiveAsync(request, ForwardOptions(context)).ConfigureAwait(false);
    });

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) => ApiContext.Guard(() =>
    {
        var response = new LeaseLeasesResponse { Header = ApiContext.Header(node, null) };
        response.Leases.AddRange(node.Read(s => s.LeaseIds()).Select(id => new LeaseStatus { ID = id }));
        return Task.FromResult(response);
    });

    private async Task<LeaseKeepAliveResponse> KeepAliveOnceAsync(long id, ServerCallContext context)
    {
        if (node.Leases.IsLeading)
        {
            // Confirm leadership first (a ReadIndex round), as etcd 3.5 does: a deposed leader that does not know it yet
            // must not promise a TTL the new leader never heard of. Any leader elected after this confirmation gives
            // every lease a full TTL plus an election timeout from its election, so the promise holds; one round
            // serves every keep-alive for half an election timeout (LeaseKeeper.RecentlyConfirmed).
            if (!node.Leases.RecentlyConfirmed)
            {
                var ticket = node.Leases.BeginConfirmation();
                await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
                node.Leases.Confirmed(ticket);
            }

            if (node.Leases.KeepAlive(id, () => node.Read(s => s.TryGetLease(id, out var found) ? found!.GrantedTtl : (long?)null)) is { } ttl)
            {
                return new LeaseKeepAliveResponse { Header = ApiContext.Header(node, null), ID = id, TTL = ttl };
            }
        }

        var invoker = Forwardable(context);
        using var call = new Lease.LeaseClient(invoker).LeaseKeepAlive(ForwardOptions(context));
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            throw ServerErrors.NoLeader();
        }

        return call.ResponseStream.Current;
    }

    /// <summary>The leader to forward to; a call that was itself forwarded is refused instead (the leader moved meanwhile).</summary>
    private CallInvoker Forwardable(ServerCallContext context) =>
        (LeaderChannels.IsForwarded(context) ? null : leaders.ForLeader(node)) ?? throw ServerErrors.NoLeader();

    private CallOptions ForwardOptions(ServerCallContext context) => new(
        headers: LeaderChannels.ForwardedMetadata(),
        deadline: DateTime.UtcNow + node.Options.RequestTimeout,
        cancellationToken: context.CancellationToken);
}
