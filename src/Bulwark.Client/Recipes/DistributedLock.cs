using Bulwark.Client.Recipes;

namespace Bulwark.Client;

/// <summary>
/// A mutex on a name, as etcd's <c>concurrency.Mutex</c> and <c>etcdctl lock NAME</c> (same keys, so they exclude
/// each other): each contender creates <c>name/{leaseId:x}</c> on its session's lease, and the one with the lowest
/// create revision holds the lock. Holding is only as good as the session: act under <see cref="LockHandle.Lost"/>
/// and guard writes with the <see cref="LockHandle.Token"/> (<see cref="FencedWrites"/>).
/// </summary>
public sealed class DistributedLock
{
    private readonly Session session;
    private readonly string name;

    /// <summary>A lock named <paramref name="name"/> whose holder key lives on <paramref name="session"/>'s lease.</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public DistributedLock(Session session, string name)
    {
        ArgumentNullException.ThrowIfNull(session);
        RecipeKeys.RequireName(name, nameof(name));
        this.session = session;
        this.name = name;
    }

    /// <summary>The lock's name (its keys are <c>name/{leaseId:x}</c>).</summary>
    public string Name => name;

    /// <summary>
    /// Waits until this session holds the lock. Cancelling, or losing the session while waiting, withdraws from the
    /// queue (the own key is deleted) and throws.
    /// </summary>
    /// <exception cref="SessionLostException">The session was lost before the lock was acquired.</exception>
    public async Task<LockHandle> AcquireAsync(CancellationToken ct = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, session.Lost);
        var key = RecipeKeys.OwnKey(name, session.LeaseId);
        var entered = false;
        long revision = 0;
        try
        {
            var (_, kv, _) = await Contention.EnterAsync(session, key, "", linked.Token).ConfigureAwait(false);
            entered = true;
            revision = kv.CreateRevision;
            var seenAt = await Contention.WaitDeletesAsync(session.Client, RecipeKeys.Prefix(name), revision - 1, linked.Token).ConfigureAwait(false);
            // The own key must still be there (its lease may have expired while waiting).
            var own = await session.Client.GetAsync(key, linked.Token).ConfigureAwait(false);
            if (own.Kvs.Count == 0 || own.Kvs[0].CreateRevision != revision)
            {
                throw new SessionLostException(session, $"lock {name}: the key {key} is gone; the session's lease expired while waiting");
            }

            return new LockHandle(session, new FencingToken(key, revision), Math.Max(seenAt, own.Header.Revision));
        }
        catch (Exception e) when (entered && e is not SessionLostException)
        {
            await Withdraw.BestEffortAsync(session, key, revision).ConfigureAwait(false);
            if (session.IsLost && !ct.IsCancellationRequested)
            {
                throw new SessionLostException(session, $"lock {name}: the session was lost while waiting ({session.LostReason})");
            }

            throw;
        }
        catch (OperationCanceledException) when (session.IsLost && !ct.IsCancellationRequested)
        {
            throw new SessionLostException(session, $"lock {name}: the session was lost ({session.LostReason})");
        }
    }
}
