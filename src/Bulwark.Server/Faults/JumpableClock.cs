namespace Bulwark.Server.Faults;

/// <summary>
/// The member's clock under `--unsafe-fault-injection`: another <see cref="TimeProvider"/> (the system's) plus an offset
/// an operator can jump forward or back (fault point <c>clock-jump</c>). Everything the host reads through it jumps:
/// <see cref="GetTimestamp"/>, <see cref="GetUtcNow"/>, and the timers (the tick timer that drives Raft, heartbeats,
/// elections and the lease keeper; request deadlines; retry backoffs), which are kept as due times on this clock, as
/// timers armed on a clock that jumps are:
/// <list type="bullet">
/// <item>a forward jump makes every timer that is now due fire at once, once: a periodic timer does not replay the
/// periods it skipped (as .NET's and Go's tickers do not), so the tick driver sees one early tick, never a burst, and a
/// lease (counted in ticks) expires at most one tick early;</item>
/// <item>a backward jump delays every timer by the jump: the member's ticks stop for that long (a leader stops
/// heartbeating, as if paused, and its followers elect another; its leases live longer, never shorter).</item>
/// </list>
/// </summary>
public sealed class JumpableClock : TimeProvider
{
    private readonly TimeProvider inner;
    private readonly Lock gate = new();
    private readonly HashSet<JumpTimer> timers = [];
    private long offsetTicks; // in inner.TimestampFrequency units

    public JumpableClock(TimeProvider? inner = null)
    {
        this.inner = inner ?? System;
    }

    /// <summary>The total jump so far (positive: ahead of the real clock).</summary>
    public TimeSpan Offset => TimeSpan.FromSeconds(Volatile.Read(ref offsetTicks) / (double)inner.TimestampFrequency);

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long GetTimestamp() => inner.GetTimestamp() + Volatile.Read(ref offsetTicks);

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    /// <summary>Jumps the clock by <paramref name="by"/> (negative: back) and re-arms every timer against it.</summary>
    public void Jump(TimeSpan by)
    {
        lock (gate)
        {
            Interlocked.Add(ref offsetTicks, (long)(by.TotalSeconds * inner.TimestampFrequency));
            foreach (var timer in timers)
            {
                timer.Rearm();
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new JumpTimer(this, callback, state);
        lock (gate)
        {
            timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    private void Forget(JumpTimer timer)
    {
        lock (gate)
        {
            timers.Remove(timer);
        }
    }

    /// <summary>A timer kept as a due time on the jumping clock, armed as a one-shot timer of the real one.</summary>
    private sealed class JumpTimer : ITimer
    {
        private readonly JumpableClock clock;
        private readonly TimerCallback callback;
        private readonly object? state;
        private readonly ITimer real;
        private readonly Lock gate = new();
        private long dueAt = long.MaxValue; // on the jumping clock; MaxValue: not armed
        private long periodTicks; // 0: one-shot
        private bool disposed;

        public JumpTimer(JumpableClock clock, TimerCallback callback, object? state)
        {
            this.clock = clock;
            this.callback = callback;
            this.state = state;
            real = clock.inner.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (gate)
            {
                if (disposed)
                {
                    return false;
                }

                periodTicks = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : Ticks(period);
                dueAt = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock.GetTimestamp() + Ticks(dueTime);
                ArmLocked();
                return true;
            }
        }

        public void Rearm()
        {
            lock (gate)
            {
                if (!disposed)
                {
                    ArmLocked();
                }
            }
        }

        public void Dispose()
        {
            lock (gate)
            {
                disposed = true;
                dueAt = long.MaxValue;
            }

            real.Dispose();
            clock.Forget(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Fire()
        {
            lock (gate)
            {
                if (disposed || dueAt == long.MaxValue)
                {
                    return;
                }

                var now = clock.GetTimestamp();
                if (now < dueAt)
                {
                    ArmLocked(); // the clock went back since this was armed: wait the rest
                    return;
                }

                // Skipped periods are not replayed: the next one is a period from now.
                dueAt = periodTicks == 0 ? long.MaxValue
                    : dueAt + periodTicks > now ? dueAt + periodTicks
                    : now + periodTicks;

                ArmLocked();
            }

            callback(state);
        }

        private void ArmLocked()
        {
            if (dueAt == long.MaxValue)
            {
                real.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            var wait = Math.Max(0, dueAt - clock.GetTimestamp());
            real.Change(TimeSpan.FromSeconds(wait / (double)clock.inner.TimestampFrequency), Timeout.InfiniteTimeSpan);
        }

        private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * clock.inner.TimestampFrequency);
    }
}
