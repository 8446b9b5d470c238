namespace Bulwark.Server.Hosting;

/// <summary>
/// When leases expire, decided by the leader alone (etcd's lessor). Time is counted in the host's ticks (one per
/// heartbeat interval), so the same code runs on the simulator's virtual time; a late tick only makes a lease live
/// longer, never shorter. The leader keeps each lease's deadline; a keep-alive moves it to now + TTL; a lease past its
/// deadline is revoked by proposing a LeaseRevoke through the log like any write, so every member deletes its keys at
/// the same revision. Followers keep no deadlines: on becoming leader a member gives every lease its full TTL plus one
/// election timeout (etcd's Promote), so no lease expires early because of a failover; the price is that a lease
/// abandoned just before a failover lives up to that much longer. Thread-safe: the loop ticks it, API calls renew.
/// </summary>
public sealed class LeaseKeeper
{
    /// <summary>Ticks between reconciling the deadlines with the leases the store holds (grants and revokes applied).</summary>
    private const int ReconcileTicks = 4;

    private readonly Lock gate = new();
    private readonly Dictionary<long, Deadline> deadlines = [];
    private readonly TimeSpan tick;
    private readonly int extendTicks;
    private long now;
    private long epoch;
    private long confirmedAt = long.MinValue;
    private long renewals;
    private long expirations;
    private bool leading;
    private long nextReconcile;

    public LeaseKeeper(TimeSpan tick, int electionTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(tick, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(electionTicks, 1);
        this.tick = tick;
        extendTicks = electionTicks;
    }

    /// <summary>Keep-alives this member renewed while leading (etcd_debugging_lease_renewed_total).</summary>
    public long Renewals => Interlocked.Read(ref renewals);

    /// <summary>Leases this member found expired while leading and proposed to revoke (etcd_server_lease_expired_total).</summary>
    public long Expirations => Interlocked.Read(ref expirations);

    /// <summary>True while this member keeps lease deadlines (it is the leader).</summary>
    public bool IsLeading
    {
        get
        {
            lock (gate)
            {
                return leading;
            }
        }
    }

    /// <summary>
    /// One tick. <paramref name="grants"/> reads the store's leases (id, TTL in seconds); <paramref name="revoke"/>
    /// proposes the revocation of an expired lease (asked again after an election timeout if it is still granted).
    /// </summary>
    public void Tick(bool isLeader, Func<IReadOnlyList<(long Id, long Ttl)>> grants, Action<long> revoke)
    {
        ArgumentNullException.ThrowIfNull(grants);
        ArgumentNullException.ThrowIfNull(revoke);
        List<long>? expired = null;
        lock (gate)
        {
            now++;
            if (!isLeader)
            {
                if (leading)
                {
                    NewEpoch();
                }

                leading = false;
                deadlines.Clear();
                return;
            }

            bool promoted = !leading;
            if (promoted)
            {
                NewEpoch();
            }

            leading = true;
            if (promoted || now >= nextReconcile)
            {
                Reconcile(grants(), promoted ? extendTicks : 0);
                nextReconcile = now + ReconcileTicks;
            }

            foreach (var (id, deadline) in deadlines)
            {
                if (deadline.ExpiresAt <= now && deadline.RevokeAskedAt + extendTicks <= now)
                {
                    (expired ??= []).Add(id);
                }
            }

            if (expired is not null)
            {
                foreach (var id in expired)
                {
                    if (deadlines[id].RevokeAskedAt < 0)
                    {
                        expirations++; // the first ask only: re-asks after an election timeout are the same expiry
                    }

                    deadlines[id] = deadlines[id] with { RevokeAskedAt = now };
                }
            }
        }

        if (expired is not null)
        {
            expired.Sort(); // deterministic order of proposals
            foreach (var id in expired)
            {
                revoke(id);
            }
        }
    }

    /// <summary>
    /// The member's role changed (called as soon as the loop sees it, not at the next tick): a member that stopped
    /// leading, or leads a new term, forgets every deadline at once. Otherwise, for up to a tick after stepping down,
    /// a keep-alive confirmed through the new leader (a follower's ReadIndex) would still be renewed here, promising a
    /// TTL the new leader never heard of (the simulator's deposed-lease-holder runs found it). A new leader starts
    /// its deadlines with the promotion extension.
    /// </summary>
    public void LeadershipChanged(bool isLeader, Func<IReadOnlyList<(long Id, long Ttl)>> grants)
    {
        ArgumentNullException.ThrowIfNull(grants);
        lock (gate)
        {
            NewEpoch();
            leading = false;
            deadlines.Clear();
            if (isLeader)
            {
                leading = true;
                Reconcile(grants(), extendTicks);
                nextReconcile = now + ReconcileTicks;
            }
        }
    }

    /// <summary>
    /// Starts or restarts a lease's clock: its deadline becomes now + <paramref name="ttlSeconds"/>. False when this
    /// member is not the leader, or the lease already expired here (its revocation is on its way).
    /// </summary>
    public bool Renew(long id, long ttlSeconds)
    {
        lock (gate)
        {
            if (!leading || (deadlines.TryGetValue(id, out var deadline) && deadline.ExpiresAt <= now))
            {
                return false;
            }

            deadlines[id] = new Deadline(ttlSeconds, now + Ticks(ttlSeconds), long.MinValue / 2);
            return true;
        }
    }

    /// <summary>
    /// Whether this member's leadership was confirmed (a ReadIndex round asked for at most half an election timeout ago,
    /// in its current term of leading), so a keep-alive may be renewed without a round of its own. Safe because a new
    /// leader can only be elected after that round (one of its voters acknowledged it) and starts every lease with its
    /// full TTL plus an election timeout: a renewal within half an election timeout of the round stays inside that
    /// extension, with room for the clocks of the two members to run 0.8-1.25x apart. Without this every keep-alive
    /// cost a heartbeat round on every member.
    /// </summary>
    public bool RecentlyConfirmed
    {
        get
        {
            lock (gate)
            {
                return leading && confirmedAt != long.MinValue && now - confirmedAt <= extendTicks / 2;
            }
        }
    }

    /// <summary>Taken before asking for a ReadIndex round: when, and in which term of leading.</summary>
    public ConfirmationTicket BeginConfirmation()
    {
        lock (gate)
        {
            return new ConfirmationTicket(now, epoch);
        }
    }

    /// <summary>The round asked for with <paramref name="ticket"/> confirmed leadership (ignored if leadership changed since).</summary>
    public void Confirmed(ConfirmationTicket ticket)
    {
        lock (gate)
        {
            if (leading && ticket.Epoch == epoch)
            {
                confirmedAt = Math.Max(confirmedAt, ticket.Tick);
            }
        }
    }

    /// <summary>
    /// A client's keep-alive, once the caller has confirmed this member's leadership (a ReadIndex round):
    /// <paramref name="grantedTtl"/> reads the lease's TTL from the applied store (null: no such lease). Returns the
    /// TTL now promised, 0 when the lease is gone (etcd answers TTL 0, not an error), or null when this member does not
    /// lead (the caller forwards the keep-alive to the leader).
    /// </summary>
    public long? KeepAlive(long id, Func<long?> grantedTtl)
    {
        ArgumentNullException.ThrowIfNull(grantedTtl);
        if (grantedTtl() is not { } ttl)
        {
            return IsLeading ? 0 : null;
        }

        lock (gate)
        {
            if (!leading)
            {
                return null;
            }

            if (deadlines.TryGetValue(id, out var deadline) && deadline.ExpiresAt <= now)
            {
                // Expired here: its revocation is proposed (or will be at the next tick) and deletes the keys soon; a
                // renewal now would promise a TTL the log is about to break.
                return 0;
            }

            deadlines[id] = new Deadline(ttl, now + Ticks(ttl), long.MinValue / 2);
            renewals++;
            return ttl;
        }
    }

    /// <summary>Seconds left before the lease expires (never negative), or null when this member is not the leader.</summary>
    public long? RemainingSeconds(long id, long ttlSeconds)
    {
        lock (gate)
        {
            if (!leading)
            {
                return null;
            }

            if (!deadlines.TryGetValue(id, out var deadline))
            {
                // Granted since the last reconcile: its clock starts now.
                deadline = new Deadline(ttlSeconds, now + Ticks(ttlSeconds), long.MinValue / 2);
                deadlines[id] = deadline;
            }

            long ticksLeft = Math.Max(0, deadline.ExpiresAt - now);
            return (long)(ticksLeft * tick.TotalSeconds);
        }
    }

    private void NewEpoch()
    {
        epoch++;
        confirmedAt = long.MinValue;
    }

    private void Reconcile(IReadOnlyList<(long Id, long Ttl)> granted, int extra)
    {
        var live = new HashSet<long>();
        foreach (var (id, ttl) in granted)
        {
            live.Add(id);
            if (extra > 0 || !deadlines.ContainsKey(id))
            {
                deadlines[id] = new Deadline(ttl, now + Ticks(ttl) + extra, long.MinValue / 2);
            }
        }

        foreach (var id in deadlines.Keys.Where(id => !live.Contains(id)).ToList())
        {
            deadlines.Remove(id);
        }
    }

    /// <summary>
    /// Whole ticks covering <paramref name="seconds"/>, plus one: a timer tick can come up to a clock granule (1 ms)
    /// early, and the extra tick keeps those small errors from ever expiring a lease before its TTL.
    /// </summary>
    private long Ticks(long seconds) => (long)Math.Ceiling(TimeSpan.FromSeconds(Math.Min(seconds, 1L << 40)) / tick) + 1;

    private readonly record struct Deadline(long Ttl, long ExpiresAt, long RevokeAskedAt);
}

/// <summary>When a leadership confirmation was asked for (lease-keeper tick) and in which term of leading.</summary>
public readonly record struct ConfirmationTicket(long Tick, long Epoch);
