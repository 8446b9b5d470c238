using System.Runtime.CompilerServices;
using Bulwark.Api.Mvccpb;
using Bulwark.Client.Recipes;

namespace Bulwark.Client;

/// <summary>
/// A leader election on a name, as etcd's <c>concurrency.Election</c> and <c>etcdctl elect NAME</c> (same keys, so
/// they campaign against each other and observe each other): each candidate creates <c>name/{leaseId:x}</c> with its
/// value on its session's lease, and the one with the lowest create revision leads.
/// </summary>
public sealed class LeaderElection
{
    private readonly Session session;
    private readonly string name;

    /// <summary>An election named <paramref name="name"/> whose candidate key lives on <paramref name="session"/>'s lease.</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public LeaderElection(Session session, string name)
    {
        ArgumentNullException.ThrowIfNull(session);
        RecipeKeys.RequireName(name, nameof(name));
        this.session = session;
        this.name = name;
    }

    /// <summary>The election's name (its keys are <c>name/{leaseId:x}</c>).</summary>
    public string Name => name;

    /// <summary>
    /// Campaigns with <paramref name="value"/> and waits until this session leads. Cancelling, or losing the session
    /// while waiting, withdraws the candidacy (the key is deleted) and throws. Campaigning again on the same session
    /// while already a candidate takes over that candidacy (proclaiming the new value), as etcd does.
    /// </summary>
    /// <exception cref="SessionLostException">The session was lost before leadership was won.</exception>
    public async Task<Leadership> CampaignAsync(string value, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, session.Lost);
        var key = RecipeKeys.OwnKey(name, session.LeaseId);
        var entered = false;
        long revision = 0;
        try
        {
            var (_, kv, _) = await Contention.EnterAsync(session, key, value, linked.Token).ConfigureAwait(false);
            entered = true;
            revision = kv.CreateRevision;
            if (kv.Value.ToStringUtf8() != value && !await Leadership.ProclaimAsync(session, key, revision, value, linked.Token).ConfigureAwait(false))
            {
                throw new SessionLostException(session, $"election {name}: the candidate key {key} vanished while proclaiming");
            }

            var seenAt = await Contention.WaitDeletesAsync(session.Client, RecipeKeys.Prefix(name), revision - 1, linked.Token).ConfigureAwait(false);
            var own = await session.Client.GetAsync(key, linked.Token).ConfigureAwait(false);
            if (own.Kvs.Count == 0 || own.Kvs[0].CreateRevision != revision)
            {
                throw new SessionLostException(session, $"election {name}: the key {key} is gone; the session's lease expired while waiting");
            }

            return new Leadership(session, new FencingToken(key, revision), own.Kvs[0].Value.ToStringUtf8(), Math.Max(seenAt, own.Header.Revision));
        }
        catch (Exception e) when (entered && e is not SessionLostException)
        {
            await Withdraw.BestEffortAsync(session, key, revision).ConfigureAwait(false);
            if (session.IsLost && !ct.IsCancellationRequested)
            {
                throw new SessionLostException(session, $"election {name}: the session was lost while campaigning ({session.LostReason})");
            }

            throw;
        }
        catch (OperationCanceledException) when (session.IsLost && !ct.IsCancellationRequested)
        {
            throw new SessionLostException(session, $"election {name}: the session was lost ({session.LostReason})");
        }
    }

    /// <summary>The current leader (linearizable read), or null when nobody campaigns.</summary>
    public async Task<LeaderInfo?> GetLeaderAsync(CancellationToken ct = default)
    {
        var first = await session.Client.RangeAsync(RecipeKeys.FirstCreated(RecipeKeys.Prefix(name)), ct).ConfigureAwait(false);
        return first.Kvs.Count == 0 ? null : ToInfo(first.Kvs[0]);
    }

    /// <summary>
    /// The current leader (once there is one), then every change: a new leader or a new proclaimed value. Resumes
    /// across member failures like any watch. Ends only by <paramref name="ct"/>.
    /// </summary>
    public async IAsyncEnumerable<LeaderInfo> ObserveAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var client = session.Client;
        var prefix = RecipeKeys.Prefix(name);
        LeaderInfo? last = null;
        while (true)
        {
            var first = await client.RangeAsync(RecipeKeys.FirstCreated(prefix), ct).ConfigureAwait(false);
            LeaderInfo leader;
            long followFrom;
            if (first.Kvs.Count > 0)
            {
                leader = ToInfo(first.Kvs[0]);
                followFrom = first.Header.Revision + 1;
            }
            else
            {
                // Nobody campaigns: the first key created under the prefix after this read is the next leader (every
                // older key is gone). Its PUT event carries the value it started with, so none is skipped.
                WatchEvent? created = null;
                await foreach (var e in UntilCompacted(client.WatchAsync(prefix, new WatchOptions(Prefix: true, StartRevision: first.Header.Revision + 1, NoDelete: true), ct), ct).ConfigureAwait(false))
                {
                    created = e;
                    break;
                }

                if (created is null)
                {
                    continue; // history compacted: read again
                }

                leader = ToInfo(created.Kv);
                followFrom = created.Revision + 1;
            }

            if (leader != last)
            {
                last = leader;
                yield return leader;
            }

            // Follow the leader's key until it goes; each new value is a new proclamation.
            await foreach (var e in UntilCompacted(client.WatchAsync(leader.Key, new WatchOptions(StartRevision: followFrom), ct), ct).ConfigureAwait(false))
            {
                if (e.Type == Event.Types.EventType.Delete || e.Kv.CreateRevision != leader.Revision)
                {
                    break;
                }

                var proclaimed = ToInfo(e.Kv);
                if (proclaimed != last)
                {
                    last = proclaimed;
                    yield return proclaimed;
                }
            }
        }
    }

    /// <summary>The watch's events until it ends or its history is compacted away; the observer then reads the queue again.</summary>
    private static async IAsyncEnumerable<WatchEvent> UntilCompacted(IAsyncEnumerable<WatchEvent> watch, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var events = watch.GetAsyncEnumerator(ct);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (WatchCompactedException)
            {
                yield break;
            }

            yield return events.Current;
        }
    }

    private static LeaderInfo ToInfo(KeyValue kv) => new(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.CreateRevision, kv.Lease);
}
