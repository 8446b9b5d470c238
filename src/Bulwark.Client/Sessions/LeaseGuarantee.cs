namespace Bulwark.Client.Sessions;

/// <summary>
/// How long a lease is surely alive, on a monotonic clock: the send time of the last successful keep-alive (or the
/// grant) plus the TTL the server answered. The send time, not the answer time, because the server may have renewed
/// the lease at any moment after the request left; counting from the answer would claim time the lease may not have.
/// The session counts as lost <c>margin</c> before that point (or at once when the server says the lease is gone):
/// a timer fires the loss callback exactly once.
/// </summary>
internal sealed class LeaseGuarantee : IDisposable
{
    private readonly TimeProvider time;
    private readonly long marginTicks;
    private readonly Action<string> onLost;
    private readonly ITimer timer;
    private readonly object gate = new();
    private long guaranteedUntil;
    private bool lost;

    /// <param name="time">The monotonic clock (a fake one in tests).</param>
    /// <param name="margin">How long before the guaranteed end the session counts as lost.</param>
    /// <param name="sentAt">Timestamp (<see cref="TimeProvider.GetTimestamp"/>) the grant request was sent at.</param>
    /// <param name="ttlSeconds">The TTL the grant answered.</param>
    /// <param name="onLost">Called once, with the reason, when the guarantee ends.</param>
    public LeaseGuarantee(TimeProvider time, TimeSpan margin, long sentAt, long ttlSeconds, Action<string> onLost)
    {
        this.time = time;
        this.onLost = onLost;
        marginTicks = (long)(margin.TotalSeconds * time.TimestampFrequency);
        timer = time.CreateTimer(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Renewed(sentAt, ttlSeconds);
    }

    /// <summary>The timestamp until which the lease surely exists.</summary>
    public long GuaranteedUntil
    {
        get
        {
            lock (gate)
            {
                return guaranteedUntil;
            }
        }
    }

    /// <summary>The timestamp at which the session counts as lost (<see cref="GuaranteedUntil"/> minus the margin).</summary>
    public long Deadline => GuaranteedUntil - marginTicks;

    public bool IsLost
    {
        get
        {
            lock (gate)
            {
                return lost;
            }
        }
    }

    /// <summary>A keep-alive sent at <paramref name="sentAt"/> was answered with <paramref name="ttlSeconds"/> (≤ 0: the lease is gone).</summary>
    public void Renewed(long sentAt, long ttlSeconds)
    {
        if (ttlSeconds <= 0)
        {
            Lose("the server says the lease is gone (expired or revoked)");
            return;
        }

        lock (gate)
        {
            if (lost)
            {
                return;
            }

            // Answers can only extend the guarantee: an old, slow answer never shortens it.
            guaranteedUntil = Math.Max(guaranteedUntil, sentAt + ttlSeconds * time.TimestampFrequency);
        }

        Check();
    }

    /// <summary>Ends the guarantee now (the server said so, or a release-on-disconnect stream broke).</summary>
    public void Lose(string reason)
    {
        lock (gate)
        {
            if (lost)
            {
                return;
            }

            lost = true;
        }

        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        onLost(reason);
    }

    private void Check()
    {
        lock (gate)
        {
            if (lost)
            {
                return;
            }

            var remaining = guaranteedUntil - marginTicks - time.GetTimestamp();
            if (remaining > 0)
            {
                // Under the lock: a concurrent check with an older view cannot push the timer past the deadline.
                timer.Change(ToTimeSpanRoundedUp(remaining), Timeout.InfiniteTimeSpan);
                return;
            }
        }

        Lose("keep-alives failed past the deadline (TTL minus safety margin since the last renewal was sent)");
    }

    // Rounded up and at least one tick: a timer that fires a hair early would only re-arm for the rest.
    private TimeSpan ToTimeSpanRoundedUp(long timestampTicks) =>
        TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling((double)timestampTicks * TimeSpan.TicksPerSecond / time.TimestampFrequency)));

    public void Dispose() => timer.Dispose();
}
