using System.Runtime.CompilerServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bulwark.Client.Hosting;

/// <summary>
/// A hosted service whose work runs only while this instance leads an election: one master among instances of the
/// same service, the others standing by as backups. Subclasses implement <see cref="ExecuteAsLeaderAsync"/>.
/// </summary>
/// <remarks>
/// The loop: open a session (a lease kept alive in the background), campaign, and when elected run
/// <see cref="ExecuteAsLeaderAsync"/> with a token that fires when the leadership is lost (the session's lease can no
/// longer be guaranteed, or the leader key was deleted) or the host stops. When the work returns, throws, or the
/// token fires: resign (best effort), close the session, and campaign again with a new one. On host shutdown the
/// service resigns before it returns, so a backup takes over at once instead of after the lease's TTL.
/// <para>
/// The token firing is the local view; a paused process cannot see it in time. Every effect the leader has outside
/// its own process must therefore be guarded by the <see cref="FencingToken"/> (see
/// <see cref="FencedWrites.GuardedTxnAsync"/>): a write guarded by a token whose leadership has ended is refused.
/// </para>
/// </remarks>
public abstract class LeaderBackgroundService : BackgroundService
{
    private readonly BulwarkClient client;
    private readonly LeaderElectionOptions options;
    private readonly ILogger logger;
    private volatile Leadership? leadership;
    private volatile LeaderElection? election;

    /// <param name="client">The client the sessions and campaigns use.</param>
    /// <param name="options">The election settings (<see cref="BulwarkHostingServiceCollectionExtensions.AddBulwarkLeaderElection"/>).</param>
    /// <param name="logger">Where campaigns, wins, losses and resignations are logged.</param>
    protected LeaderBackgroundService(BulwarkClient client, IOptions<LeaderElectionOptions> options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        this.client = client;
        this.options = options.Value;
        this.options.Validate();
        this.logger = logger;
    }

    /// <summary>The election this service campaigns in.</summary>
    public string ElectionName => options.ElectionName;

    /// <summary>The value observers see while this instance leads.</summary>
    public string InstanceValue => options.InstanceValue;

    /// <summary>Whether this instance leads now (as far as it can know: false from the moment the leadership is lost).</summary>
    public bool IsLeader => leadership is { } held && !held.Lost.IsCancellationRequested;

    /// <summary>The fencing token of the current leadership, or null when this instance does not lead.</summary>
    public FencingToken? CurrentToken => leadership is { } held && !held.Lost.IsCancellationRequested ? held.Token : null;

    /// <summary>
    /// The election's current leader as the cluster says, or null when there is none or this instance has no session
    /// at the moment (between two campaigns).
    /// </summary>
    public async Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken = default) =>
        election is { } current ? await current.GetLeaderAsync(cancellationToken).ConfigureAwait(false) : null;

    /// <summary>
    /// The election's current leader, then each change, as long as this instance's session lives; it ends when the
    /// session ends (call again to follow the next one).
    /// </summary>
    public async IAsyncEnumerable<LeaderInfo> ObserveLeaderAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (election is not { } current)
        {
            yield break;
        }

        await foreach (var leader in current.ObserveAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return leader;
        }
    }

    /// <summary>
    /// The leader's work. Runs only while this instance leads; <paramref name="leadershipToken"/> fires when the
    /// leadership is lost or the host stops. Return (or throw) to step down: the service resigns and campaigns again.
    /// </summary>
    /// <param name="leadershipToken">Fires when the leadership ends (lease lost, leader key gone, host stopping).</param>
    /// <param name="fencingToken">Guard every external write with it (<see cref="FencedWrites"/>).</param>
    protected abstract Task ExecuteAsLeaderAsync(CancellationToken leadershipToken, FencingToken fencingToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CampaignAndLeadOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LeaderLog.CampaignFailed(logger, options.ElectionName, options.RetryDelay.TotalMilliseconds, $"{e.GetType().Name}: {e.Message}");
                try
                {
                    await Task.Delay(options.RetryDelay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One session: campaign, lead until the work ends or the leadership is lost, resign, close the session.</summary>
    private async Task CampaignAndLeadOnceAsync(CancellationToken stoppingToken)
    {
        var sessionOptions = new SessionOptions { Ttl = options.SessionTtl, ReleaseOnDisconnect = options.ReleaseOnDisconnect };
        var session = await client.CreateSessionAsync(sessionOptions, stoppingToken).ConfigureAwait(false);
        try
        {
            var candidate = new LeaderElection(session, options.ElectionName);
            election = candidate;
            LeaderLog.Campaigning(logger, options.ElectionName, options.InstanceValue, session.LeaseId, options.SessionTtl.TotalSeconds, options.ReleaseOnDisconnect);
            // Losing the session while waiting ends the campaign with SessionLostException: the loop campaigns again.
            var won = await candidate.CampaignAsync(options.InstanceValue, stoppingToken).ConfigureAwait(false);
            await LeadAsync(won, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            election = null;
            await CloseQuietlyAsync(session).ConfigureAwait(false);
        }
    }

    private async Task LeadAsync(Leadership won, CancellationToken stoppingToken)
    {
        leadership = won;
        HostingMetrics.Acquired.Add(1, new KeyValuePair<string, object?>("election", options.ElectionName));
        HostingMetrics.IsLeader.Add(1, new KeyValuePair<string, object?>("election", options.ElectionName));
        LeaderLog.Won(logger, options.ElectionName, options.InstanceValue, won.Token.Key, won.Token.Revision, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        string reason;
        try
        {
            using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, won.Lost);
            try
            {
                await ExecuteAsLeaderAsync(leading.Token, won.Token).ConfigureAwait(false);
                reason = won.Lost.IsCancellationRequested ? "lost" : stoppingToken.IsCancellationRequested ? "stopping" : "returned";
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested)
            {
                reason = stoppingToken.IsCancellationRequested ? "stopping" : "lost";
            }
            catch (Exception e)
            {
                LeaderLog.WorkFailed(logger, e, options.ElectionName, won.Token.Revision);
                reason = "failed";
            }
        }
        finally
        {
            // Observers of IsLeader must see the end before the resignation lets another instance win.
            leadership = null;
            HostingMetrics.IsLeader.Add(-1, new KeyValuePair<string, object?>("election", options.ElectionName));
        }

        HostingMetrics.Lost.Add(1, new KeyValuePair<string, object?>("election", options.ElectionName), new KeyValuePair<string, object?>("reason", reason));
        LeaderLog.Ended(logger, options.ElectionName, won.Token.Revision, Describe(reason));
        await ResignQuietlyAsync(won).ConfigureAwait(false);
    }

    private static string Describe(string reason) => reason switch
    {
        "lost" => "lost (the session's lease can no longer be guaranteed, or the leader key is gone)",
        "stopping" => "the host is stopping",
        "returned" => "the leader's work returned (stepping down)",
        _ => "the leader's work failed",
    };

    private async Task ResignQuietlyAsync(Leadership held)
    {
        // Not the stopping token: on shutdown it is already cancelled, and resigning then is the point.
        using var bound = new CancellationTokenSource(options.ResignTimeout);
        try
        {
            await held.ResignAsync(bound.Token).ConfigureAwait(false);
            LeaderLog.Resigned(logger, options.ElectionName, held.Token.Revision);
        }
        catch (Exception e)
        {
            LeaderLog.ResignFailed(logger, options.ElectionName, held.Token.Revision, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private async Task CloseQuietlyAsync(Session session)
    {
        using var bound = new CancellationTokenSource(options.ResignTimeout);
        try
        {
            await session.CloseAsync(bound.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The lease then runs out on its own TTL.
            LeaderLog.ResignFailed(logger, options.ElectionName, 0, $"closing the session: {e.GetType().Name}: {e.Message}");
        }
    }
}
