using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Client;

public sealed partial class BulwarkClient
{
    /// <summary>The message etcd's client gives when a keep-alive finds no lease.</summary>
    internal const string LeaseNotFoundMessage = "etcdserver: requested lease not found";

    /// <summary>
    /// Grants a lease of <paramref name="ttl"/> (whole seconds, rounded up). Sent again only when the failure proves it
    /// never left: a repeated grant would leave a second lease to expire on its own.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ttl"/> is under one second.</exception>
    public Task<LeaseGrantResponse> LeaseGrantAsync(TimeSpan ttl, CancellationToken ct = default)
    {
        var seconds = LeaseSeconds(ttl, nameof(ttl));
        return calls.RunAsync(
            "LeaseGrant",
            CallRoute.Leader,
            CallRetry.WhenNotApplied,
            (channel, options) => new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = seconds }, options).ResponseAsync,
            ct);
    }

    /// <summary>
    /// Revokes <paramref name="leaseId"/> and deletes its keys. Retried after a failure (revoking twice is revoking once);
    /// a retry that finds the lease gone counts as done.
    /// </summary>
    /// <exception cref="RpcException">NotFound: the lease did not exist (on the first attempt).</exception>
    public async Task LeaseRevokeAsync(long leaseId, CancellationToken ct = default)
    {
        var attempts = 0;
        try
        {
            await calls.RunAsync(
                "LeaseRevoke",
                CallRoute.Leader,
                CallRetry.Always,
                (channel, options) =>
                {
                    Interlocked.Increment(ref attempts);
                    return new Lease.LeaseClient(channel).LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, options).ResponseAsync;
                },
                ct).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && Volatile.Read(ref attempts) > 1)
        {
            // An earlier attempt revoked it before failing to answer.
        }
    }

    /// <summary>Renews <paramref name="leaseId"/> once (one request on a LeaseKeepAlive stream). Retried after a failure.</summary>
    /// <exception cref="RpcException">NotFound: the lease has expired or was revoked.</exception>
    public async Task<LeaseKeepAliveResponse> LeaseKeepAliveOnceAsync(long leaseId, CancellationToken ct = default)
    {
        var response = await calls.RunAsync(
            "LeaseKeepAlive",
            CallRoute.Leader,
            CallRetry.Always,
            (channel, options) => KeepAliveOnceAsync(channel, options, leaseId),
            ct).ConfigureAwait(false);
        return response.TTL > 0 ? response : throw new RpcException(new Status(StatusCode.NotFound, LeaseNotFoundMessage));
    }

    /// <summary>The remaining time to live of <paramref name="leaseId"/> (TTL -1 when it does not exist). Retried after a failure.</summary>
    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long leaseId, CancellationToken ct = default) =>
        calls.RunAsync(
            "LeaseTimeToLive",
            CallRoute.Leader,
            CallRetry.Always,
            (channel, options) => new Lease.LeaseClient(channel).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = leaseId }, options).ResponseAsync,
            ct);

    /// <summary>The cluster's members. Retried after a failure.</summary>
    public Task<MemberListResponse> MemberListAsync(CancellationToken ct = default) =>
        calls.RunAsync(
            "MemberList",
            CallRoute.Leader,
            CallRetry.Always,
            (channel, options) => new Cluster.ClusterClient(channel).MemberListAsync(new MemberListRequest(), options).ResponseAsync,
            ct);

    /// <summary>The status of the member the client would send a write to (the leader when known). Retried after a failure.</summary>
    public Task<StatusResponse> StatusAsync(CancellationToken ct = default) =>
        calls.RunAsync(
            "Status",
            CallRoute.Leader,
            CallRetry.Always,
            (channel, options) => new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), options).ResponseAsync,
            ct);

    /// <summary>
    /// Grants a lease and keeps it alive in the background until the session is closed or lost; see <see cref="Session"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A TTL under one second, or a keep-alive interval not below the TTL.</exception>
    public Task<Session> CreateSessionAsync(SessionOptions? options = null, CancellationToken ct = default) =>
        Session.CreateAsync(this, options ?? new SessionOptions(), ct);

    internal static long LeaseSeconds(TimeSpan ttl, string parameter)
    {
        if (ttl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"a lease TTL must be at least 1 s (was {ttl.TotalMilliseconds} ms)", parameter);
        }

        return (long)Math.Ceiling(ttl.TotalSeconds);
    }

    private static async Task<LeaseKeepAliveResponse> KeepAliveOnceAsync(GrpcChannel channel, CallOptions options, long leaseId)
    {
        using var call = new Lease.LeaseClient(channel).LeaseKeepAlive(options);
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = leaseId }, options.CancellationToken).ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(options.CancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive stream ended without an answer"));
        }

        var response = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return response;
    }
}
