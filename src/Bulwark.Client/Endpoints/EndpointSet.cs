using System.Net.Http;
using Bulwark.Api.Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Bulwark.Client.Endpoints;

/// <summary>
/// The client's members and their health: one channel each, a background probe (Maintenance.Status on every endpoint
/// each <see cref="BulwarkClientOptions.HealthProbeInterval"/>) that learns which answer and which member leads, and
/// the order in which a call tries them (leader or last good one first, healthy before unhealthy).
/// </summary>
internal sealed class EndpointSet : IAsyncDisposable
{
    private readonly Endpoint[] endpoints;
    private readonly BulwarkClientOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task probing;
    private readonly SemaphoreSlim probeNow = new(0, 1);
    private Endpoint? leader;
    private Endpoint preferred;

    public EndpointSet(BulwarkClientOptions options, TimeProvider time, ILogger logger)
    {
        this.options = options;
        this.time = time;
        this.logger = logger;
        endpoints = options.Endpoints.Select(EndpointAddress.Parse)
            .DistinctBy(EndpointAddress.Normalize)
            .Select(url => new Endpoint(url, OpenChannel(url, options)))
            .ToArray();
        preferred = endpoints[0];
        probing = Task.Run(() => ProbeLoopAsync(stopping.Token));
    }

    public IReadOnlyList<Endpoint> All => endpoints;

    /// <summary>The endpoint of the member the last probe found leading, or null.</summary>
    public Endpoint? Leader => Volatile.Read(ref leader);

    /// <summary>
    /// The order to try endpoints in for one sweep: the leader (for <see cref="Calls.CallRoute.Leader"/>) or the last
    /// good endpoint first (when healthy), then the other healthy ones, then the unhealthy ones, fewest failures first
    /// (a last resort: all may be marked).
    /// </summary>
    public IReadOnlyList<Endpoint> Order(Calls.CallRoute route)
    {
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref preferred);
        var first = route == Calls.CallRoute.Leader && Leader is { } l && l.IsHealthy(now) ? l
            : last.IsHealthy(now) ? last
            : null;
        return endpoints
            .OrderBy(e => e == first ? 0 : e.IsHealthy(now) ? 1 : 2)
            .ThenBy(e => e.ConsecutiveFailures)
            .ToArray();
    }

    public void Succeeded(Endpoint endpoint)
    {
        endpoint.Succeeded();
        Volatile.Write(ref preferred, endpoint);
    }

    /// <summary>Marks <paramref name="endpoint"/> failed and asks the probe to look again now (the leader may have moved).</summary>
    public void Failed(Endpoint endpoint)
    {
        endpoint.Failed(time.GetTimestamp(), time.TimestampFrequency);
        if (Leader == endpoint)
        {
            Volatile.Write(ref leader, null);
        }

        if (probeNow.CurrentCount == 0)
        {
            try
            {
                probeNow.Release();
            }
            catch (SemaphoreFullException)
            {
                // a probe is already requested
            }
        }
    }

    /// <summary>Probes every endpoint once (Status), updates health and the leader.</summary>
    public async Task ProbeAsync(CancellationToken ct)
    {
        var deadline = Min(options.RequestTimeout, options.ConnectTimeout + TimeSpan.FromSeconds(1));
        var answers = await Task.WhenAll(endpoints.Select(async e =>
        {
            try
            {
                var status = await new Maintenance.MaintenanceClient(e.Channel)
                    .StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + deadline, cancellationToken: ct).ConfigureAwait(false);
                e.Observed(status.Header?.MemberId ?? 0, status.Leader);
                e.Succeeded();
                return status;
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                ClientLog.ProbeFailed(logger, e.ToString(), CallFailures.Describe(ex));
                e.Failed(time.GetTimestamp(), time.TimestampFrequency);
                return null;
            }
        })).ConfigureAwait(false);

        var leaderId = answers.Where(a => a is { Leader: not 0 })
            .GroupBy(a => a!.Leader)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key)
            .FirstOrDefault();
        // Only an endpoint that answered this probe can be the leader's: survivors go on naming a killed leader until
        // their election timeout, and routing to it would only buy a refused connection per call.
        var answered = endpoints.Where((_, i) => answers[i] is not null).ToArray();
        var found = leaderId == 0 ? null
            : answered.FirstOrDefault(e => e.MemberId == leaderId) ?? await FindByMemberListAsync(leaderId, ct).ConfigureAwait(false);
        if (found is not null && !answered.Contains(found))
        {
            found = null;
        }

        var previous = Interlocked.Exchange(ref leader, found);
        if (found is not null && previous != found)
        {
            ClientLog.LeaderFound(logger, leaderId, found.ToString());
        }
    }

    /// <summary>The leader's endpoint by its client URLs in MemberList, when no endpoint reported that member id itself.</summary>
    private async Task<Endpoint?> FindByMemberListAsync(ulong leaderId, CancellationToken ct)
    {
        foreach (var e in endpoints.Where(e => e.IsHealthy(time.GetTimestamp())))
        {
            try
            {
                var members = await new Cluster.ClusterClient(e.Channel)
                    .MemberListAsync(new MemberListRequest(), deadline: DateTime.UtcNow + options.RequestTimeout, cancellationToken: ct).ConfigureAwait(false);
                var urls = members.Members.Where(m => m.ID == leaderId)
                    .SelectMany(m => m.ClientURLs)
                    .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? EndpointAddress.Normalize(uri) : "")
                    .ToHashSet();
                return endpoints.FirstOrDefault(x => urls.Contains(EndpointAddress.Normalize(x.Url)));
            }
            catch (RpcException) when (!ct.IsCancellationRequested)
            {
                // try the next member
            }
        }

        return null;
    }

    private async Task ProbeLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ProbeAsync(ct).ConfigureAwait(false);
                await probeNow.WaitAsync(options.HealthProbeInterval, ct).ConfigureAwait(false);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                // disposed (a cancelled call reports RpcException Cancelled)
                return;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static GrpcChannel OpenChannel(Uri url, BulwarkClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            // Several streams (watches, keep-alives) and calls share a member: allow more than one HTTP/2 connection.
            EnableMultipleHttp2Connections = true,
            // A member that stops answering (paused, partitioned) is noticed on a quiet stream too, not only at the
            // next call's deadline.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (options.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        if (options.TrustedCa is { Count: > 0 } trusted)
        {
            // The member's certificate must chain to the given CA bundle and name the host dialled.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
                Bulwark.Api.Security.CustomCaTrust.IsTrusted(presented, errors, trusted, checkName: true);
        }

        return GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // Not ThrowOperationCanceledOnCancellation: it also turns an exceeded deadline into an
            // OperationCanceledException, and a deadline is a transient failure to retry, not the caller cancelling.
            MaxReceiveMessageSize = null,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await probing.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var e in endpoints)
        {
            e.Dispose();
        }

        stopping.Dispose();
        probeNow.Dispose();
    }
}
