using Bulwark.Kv.Watch;

namespace Bulwark.Server.Api.Watches;

/// <summary>
/// Catches up the node's unsynced watchers (those that start in the past or fell behind) in the background: a step
/// whenever the hub signals work (a watcher fell behind, a slow consumer made room) and at least every 100 ms, as
/// etcd's syncWatchersLoop. Each step is bounded, so writes are never held up for long.
/// </summary>
public sealed class WatchSyncLoop : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public WatchSyncLoop(WatchHub hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        loop = Task.Run(() => RunAsync(hub, stop.Token));
    }

    private static async Task RunAsync(WatchHub hub, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var work = hub.SyncWorkAsync(stop);
            while (hub.SyncOnce())
            {
                await Task.Yield(); // between steps the applier may take the hub's lock
            }

            try
            {
                await work.WaitAsync(Period, stop).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
    }
}
