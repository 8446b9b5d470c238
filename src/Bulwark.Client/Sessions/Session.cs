using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Bulwark.Client.Endpoints;
using Bulwark.Client.Sessions;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Bulwark.Client;

/// <summary>
/// A lease kept alive in the background, the basis of locks and elections (as etcd's <c>concurrency.Session</c>).
/// <see cref="Lost"/> fires the moment the lease can no longer be guaranteed: the server said it is gone, or no
/// keep-alive succeeded for TTL minus the safety margin counted from the last successful one's send time (so it fires
/// while the lease still exists), or, with <see cref="SessionOptions.ReleaseOnDisconnect"/>, the keep-alive stream broke.
/// Work done on behalf of the session must stop when <see cref="Lost"/> fires.
/// </summary>
public sealed class Session : IAsyncDisposable
{
    /// <summary>The call metadata that asks a Bulwark member to revoke the lease when the keep-alive stream ends.</summary>
    public const string ReleaseOnDisconnectHeader = "bulwark-lease-release-on-disconnect";

    private readonly BulwarkClient client;
    private readonly SessionOptions options;
    private readonly ILogger logger;
    private readonly CancellationTokenSource lost = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly LeaseGuarantee guarantee;
    private Task keepingAlive = Task.CompletedTask;
    private int closed;
    private long renewals;

    private Session(BulwarkClient client, SessionOptions options, long leaseId, long ttlSeconds, long grantSentAt)
    {
        this.client = client;
        this.options = options;
        LeaseId = leaseId;
        Ttl = TimeSpan.FromSeconds(ttlSeconds);
        logger = client.LoggerFactory.CreateLogger<Session>();
        guarantee = new LeaseGuarantee(client.Time, options.EffectiveSafetyMargin, grantSentAt, ttlSeconds, OnLost);
    }

    /// <summary>The client the session's lease lives on.</summary>
    public BulwarkClient Client => client;

    /// <summary>The lease's id.</summary>
    public long LeaseId { get; }

    /// <summary>The TTL the server granted.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Fires once when the lease can no longer be guaranteed, or when the session is closed.</summary>
    public CancellationToken Lost => lost.Token;

    /// <summary>Whether <see cref="Lost"/> has fired.</summary>
    public bool IsLost => lost.IsCancellationRequested;

    /// <summary>Why the session ended (null while it is alive).</summary>
    public string? LostReason { get; private set; }

    /// <summary>How many keep-alives have succeeded (for tests and diagnostics).</summary>
    internal long Renewals => Interlocked.Read(ref renewals);

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> until which the lease surely exists.</summary>
    internal long GuaranteedUntil => guarantee.GuaranteedUntil;

    internal static async Task<Session> CreateAsync(BulwarkClient client, SessionOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var copy = new SessionOptions
        {
            Ttl = options.Ttl,
            KeepAliveInterval = options.KeepAliveInterval,
            SafetyMargin = options.SafetyMargin,
            ReleaseOnDisconnect = options.ReleaseOnDisconnect,
        };
        var sentAt = client.Time.GetTimestamp();
        var grant = await client.LeaseGrantAsync(copy.Ttl, ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(grant.Error))
        {
            throw new RpcException(new Status(StatusCode.Unknown, $"lease grant failed: {grant.Error}"));
        }

        var session = new Session(client, copy, grant.ID, grant.TTL, sentAt);
        session.keepingAlive = Task.Run(() => session.KeepAliveLoopAsync(session.stopping.Token), CancellationToken.None);
        return session;
    }

    /// <summary>Stops the keep-alives, revokes the lease (best effort: it expires on its own otherwise), then fires <see cref="Lost"/>.</summary>
    public async Task CloseAsync(CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref closed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await keepingAlive.ConfigureAwait(false);
        try
        {
            await client.LeaseRevokeAsync(LeaseId, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: an unrevoked lease expires after its TTL.
        }

        End("closed");
        guarantee.Dispose();
    }

    /// <summary>Same as <see cref="CloseAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    private void OnLost(string reason)
    {
        ClientMetrics.Instance.SessionLost(reason.StartsWith("keep-alives failed", StringComparison.Ordinal) ? "deadline" : "server or stream");
        ClientLog.SessionLost(logger, LeaseId, reason);
        End(reason);
        stopping.Cancel();
    }

    private void End(string reason)
    {
        lock (lost)
        {
            if (lost.IsCancellationRequested)
            {
                return;
            }

            LostReason = reason;
        }

        try
        {
            lost.Cancel();
        }
        catch (AggregateException e)
        {
            // A subscriber's callback threw; the session is lost all the same.
            ClientLog.SessionLost(logger, LeaseId, $"{reason} (a Lost callback threw: {e.InnerException?.Message})");
        }
    }

    /// <summary>
    /// One request at a time on a LeaseKeepAlive stream to the leader, every keep-alive interval; after a failure the
    /// stream is opened again (on the next endpoint) after a short pause. The guarantee, not this loop, decides loss.
    /// </summary>
    private async Task KeepAliveLoopAsync(CancellationToken stop)
    {
        AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? call = null;
        Endpoint? on = null;
        var failuresInARow = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (call is null)
                {
                    on = client.EndpointSet.Order(CallRoute.Leader)[0];
                    var headers = options.ReleaseOnDisconnect ? new Metadata { { ReleaseOnDisconnectHeader, "1" } } : null;
                    ClientMetrics.Instance.Call("LeaseKeepAlive");
                    call = new Lease.LeaseClient(on.Channel).LeaseKeepAlive(headers, cancellationToken: stop);
                }

                var sentAt = client.Time.GetTimestamp();
                var (response, error) = await KeepAliveOnceAsync(call, stop).ConfigureAwait(false);
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                if (response is not null)
                {
                    client.EndpointSet.Succeeded(on!);
                    failuresInARow = 0;
                    guarantee.Renewed(sentAt, response.TTL);
                    Interlocked.Increment(ref renewals);
                    if (guarantee.IsLost)
                    {
                        return;
                    }

                    await Task.Delay(options.EffectiveKeepAliveInterval, client.Time, stop).ConfigureAwait(false);
                    continue;
                }

                ClientLog.KeepAliveFailed(logger, LeaseId, on!.ToString(), error!);
                call.Dispose();
                call = null;
                client.EndpointSet.Failed(on);
                if (options.ReleaseOnDisconnect)
                {
                    // The member may already have revoked the lease: nothing is guaranteed any more.
                    guarantee.Lose($"the release-on-disconnect keep-alive stream broke ({error}); the member may have revoked the lease");
                    return;
                }

                failuresInARow++;
                ClientMetrics.Instance.Failover("keep-alive");
                var pause = TimeSpan.FromMilliseconds(Math.Min(100 * failuresInARow, options.EffectiveKeepAliveInterval.TotalMilliseconds));
                await Task.Delay(pause, client.Time, stop).ConfigureAwait(false);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // closed or lost (a cancelled gRPC call reports it as RpcException Cancelled)
        }
        catch (Exception e)
        {
            // Nothing left to renew with (e.g. the client was disposed): the lease cannot be guaranteed.
            guarantee.Lose($"the keep-alive loop stopped: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            call?.Dispose();
        }
    }

    private async Task<(LeaseKeepAliveResponse? Response, string? Error)> KeepAliveOnceAsync(
        AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, CancellationToken stop)
    {
        // An answer later than the request timeout is treated as a failure (the stream is dropped and reopened).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(client.Options.RequestTimeout);
        try
        {
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = LeaseId }, timeout.Token).ConfigureAwait(false);
            return await call.ResponseStream.MoveNext(timeout.Token).ConfigureAwait(false)
                ? (call.ResponseStream.Current, null)
                : (null, "the member ended the keep-alive stream");
        }
        catch (Exception e) when (!stop.IsCancellationRequested && e is RpcException or IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            return (null, timeout.IsCancellationRequested ? $"no answer within {client.Options.RequestTimeout.TotalSeconds:0.#} s" : CallFailures.Describe(e));
        }
    }
}
