namespace Bulwark.Server.Observability;

/// <summary>
/// Times each failover as this member lives it: from losing its leader (the leader became unknown, or the failure
/// detector suspects it) until a leader is known again. Fed by the node loop on every change of the known leader, not
/// by the observability sampler: a sampler that looks every 20-200 ms misses a leaderless gap shorter than its interval
/// (a 26 ms failover went uncounted that way). Thread-safe and never blocks for long (the loop calls it).
/// </summary>
public sealed class FailoverClock
{
    private readonly Lock gate = new();
    private ulong leader;
    private TimeSpan? since;

    /// <summary>
    /// The known leader changed to <paramref name="next"/> (0: none). Returns how long the failover took when this
    /// change ends one: a leader known again after it was lost, or a direct handover from one leader to another
    /// (both steps fell between two Readies, so the gap was shorter than one loop pass: counted at zero unless the
    /// old leader was already suspected).
    /// </summary>
    public TimeSpan? LeaderChanged(ulong next, TimeSpan now)
    {
        lock (gate)
        {
            var previous = leader;
            leader = next;
            if (next == 0)
            {
                if (previous != 0)
                {
                    since ??= now;
                }

                return null;
            }

            if (since is { } lostAt)
            {
                since = null;
                return now - lostAt;
            }

            return previous != 0 && previous != next ? TimeSpan.Zero : null;
        }
    }

    /// <summary>The failure detector suspects <paramref name="peer"/>: if it is the leader, the failover clock starts now.</summary>
    public void Suspected(ulong peer, TimeSpan now)
    {
        lock (gate)
        {
            if (peer != 0 && peer == leader)
            {
                since ??= now;
            }
        }
    }
}
