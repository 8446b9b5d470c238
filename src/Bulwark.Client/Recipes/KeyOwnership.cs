using Bulwark.Api.Mvccpb;
using Grpc.Core;

namespace Bulwark.Client.Recipes;

/// <summary>
/// Watches a holder's key and fires <see cref="Lost"/> when it is deleted or re-created (another create revision), or
/// when the session is lost: the holder no longer holds. Survives member failures (the watch resumes) and compaction
/// (it re-reads the key).
/// </summary>
internal sealed class KeyOwnership : IAsyncDisposable
{
    private readonly BulwarkClient client;
    private readonly string key;
    private readonly long createRevision;
    private readonly CancellationTokenSource gone = new();
    private readonly CancellationTokenSource stop = new();
    private readonly CancellationTokenSource lost;
    private readonly Task watching;
    private int withdrawn;

    /// <param name="session">The holder's session; its loss is a loss of the key.</param>
    /// <param name="key">The holder's key.</param>
    /// <param name="createRevision">Its create revision (the fencing token's).</param>
    /// <param name="seenAt">A revision at which the key was seen held; changes after it are watched.</param>
    public KeyOwnership(Session session, string key, long createRevision, long seenAt)
    {
        client = session.Client;
        this.key = key;
        this.createRevision = createRevision;
        lost = CancellationTokenSource.CreateLinkedTokenSource(session.Lost, gone.Token);
        watching = Task.Run(() => WatchAsync(seenAt + 1), CancellationToken.None);
    }

    public CancellationToken Lost => lost.Token;

    /// <summary>
    /// Gives the key up, once: marks it no longer held (<see cref="Lost"/> fires first, so nothing acts on it while it
    /// goes), deletes it if it still has this holder's create revision, and stops watching. Used by both
    /// <see cref="LockHandle.ReleaseAsync"/> and <see cref="Leadership.ResignAsync"/>.
    /// </summary>
    public async Task WithdrawAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref withdrawn, 1) != 0)
        {
            return;
        }

        try
        {
            Fire();
            await Withdraw.DeleteAsync(client, key, createRevision, ct).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Same as <see cref="WithdrawAsync"/>, never throwing: if the delete fails the key expires with the session's lease.</summary>
    public async ValueTask WithdrawQuietlyAsync()
    {
        if (Volatile.Read(ref withdrawn) != 0)
        {
            return;
        }

        try
        {
            await WithdrawAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // best effort
        }
    }

    private async Task WatchAsync(long from)
    {
        var ct = stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in client.WatchAsync(key, new WatchOptions(StartRevision: from), ct).ConfigureAwait(false))
                {
                    if (e.Type == Event.Types.EventType.Delete || e.Kv.CreateRevision != createRevision)
                    {
                        Fire();
                        return;
                    }

                    from = e.Revision + 1;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                // the client is disposed: nothing can be watched any more, and nothing guaranteed
                Fire();
                return;
            }
            catch (Exception e) when (e is WatchCompactedException or RpcException)
            {
                try
                {
                    var now = await client.GetAsync(key, ct).ConfigureAwait(false);
                    if (now.Kvs.Count == 0 || now.Kvs[0].CreateRevision != createRevision)
                    {
                        Fire();
                        return;
                    }

                    from = now.Header.Revision + 1;
                }
                catch (RpcException)
                {
                    // No member answers: the session's own deadline decides; try again shortly.
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(500), client.Time, ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private void Fire()
    {
        try
        {
            gone.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await watching.ConfigureAwait(false);
        Fire();
        stop.Dispose();
    }
}
