using Bulwark.Client;

namespace MasterBackup.Router;

/// <summary>
/// Follows the election (LeaderElection.ObserveAsync) and keeps the current master's value: the URL its worker
/// listens on. Null while there is none, or while the router cannot reach the cluster.
/// </summary>
public sealed partial class MasterObserver(BulwarkClient client, RouterSettings settings, ILogger<MasterObserver> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private volatile LeaderInfo? current;

    public LeaderInfo? Current => current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Observing needs no lease of its own to be held by anyone; the session only carries the client.
                await using var session = await client.CreateSessionAsync(new Bulwark.Client.SessionOptions(), stoppingToken);
                using var observing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, session.Lost);
                var election = new LeaderElection(session, settings.Election);
                await foreach (var leader in election.ObserveAsync(observing.Token))
                {
                    if (current?.Key != leader.Key || current?.Value != leader.Value)
                    {
                        Changed(logger, settings.Election, leader.Value, leader.Revision);
                    }

                    current = leader;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                current = null;
                Failed(logger, settings.Election, $"{e.GetType().Name}: {e.Message}");
            }

            try
            {
                await Task.Delay(RetryDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "election {Election}: master is {Value} (token {Revision})")]
    private static partial void Changed(ILogger logger, string election, string value, long revision);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "election {Election}: observing failed, again in 1 s: {Reason}")]
    private static partial void Failed(ILogger logger, string election, string reason);
}
