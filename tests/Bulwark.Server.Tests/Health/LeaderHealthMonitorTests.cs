using Bulwark.Server.Health;

namespace Bulwark.Server.Tests.Health;

public sealed class LeaderHealthMonitorTests
{
    private static readonly GrayFailureOptions Options = new()
    {
        HealthWindow = TimeSpan.FromMilliseconds(500),
        DegradedWindows = 3,
        MinBaselineWindows = 6,
        MinTenure = TimeSpan.FromSeconds(3),
        TransferCooldown = TimeSpan.FromSeconds(30),
        FsyncMargin = TimeSpan.FromMilliseconds(15),
    };

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Feeds fsync samples of <paramref name="fsyncMs"/> (±1 ms) every 50 ms from <paramref name="fromMs"/> to <paramref name="toMs"/>; true if a transfer came due.</summary>
    private static bool Run(LeaderHealthMonitor monitor, double fromMs, double toMs, double fsyncMs, bool leading = true, int seed = 1)
    {
        var random = new Random(seed);
        var due = false;
        for (var t = fromMs; t < toMs; t += 50)
        {
            monitor.Leading(leading, Ms(t));
            monitor.Sample(HealthMetric.FsyncMs, fsyncMs + random.NextDouble() - 0.5, Ms(t));
            due |= monitor.TransferDue(Ms(t));
        }

        return due;
    }

    [Fact]
    public void ASlowDiskOnTheLeaderMakesATransferDueAfterTheDegradedWindows()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.False(Run(monitor, 0, 10_000, fsyncMs: 2));
        var due = false;
        var t = 10_000.0;
        for (; t < 13_000 && !due; t += 50)
        {
            monitor.Sample(HealthMetric.FsyncMs, 52, Ms(t));
            due = monitor.TransferDue(Ms(t));
        }

        Assert.True(due);
        // Three degraded windows of 500 ms, the first may start part-way: between 1 and 2 s after the disk slowed.
        Assert.InRange(t - 10_000, 1_000, 2_100);
        var reason = Assert.Single(monitor.LastDegradation);
        Assert.Equal(HealthMetric.FsyncMs, reason.Metric);
        Assert.InRange(reason.Value, 51, 53);
        Assert.InRange(reason.BaselineMedian, 1.5, 2.5);
    }

    [Fact]
    public void AHealthyLeaderWithJitterNeverTransfers()
    {
        var monitor = new LeaderHealthMonitor(Options);
        var random = new Random(3);
        for (var t = 0.0; t < 120_000; t += 20)
        {
            monitor.Leading(true, Ms(t));
            // Mostly 1-4 ms with an occasional 30 ms hiccup: single slow syncs do not make a window's median slow.
            var fsync = random.Next(20) == 0 ? 30 : 1 + (3 * random.NextDouble());
            monitor.Sample(HealthMetric.FsyncMs, fsync, Ms(t));
            monitor.Sample(HealthMetric.ApplyLag, random.Next(200), Ms(t));
            monitor.RoundTrip(2, 1 + random.NextDouble(), Ms(t));
            Assert.False(monitor.TransferDue(Ms(t)), $"transfer due at {t} ms");
        }
    }

    [Fact]
    public void ASmallRelativeSlowdownUnderTheAbsoluteMarginIsNotDegraded()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.False(Run(monitor, 0, 10_000, fsyncMs: 0.5));
        Assert.False(Run(monitor, 10_000, 30_000, fsyncMs: 10)); // 20 times slower, but within the 15 ms margin
    }

    [Fact]
    public void TooShortADegradationIsNotEnough()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.False(Run(monitor, 0, 10_000, fsyncMs: 2));
        Assert.False(Run(monitor, 10_000, 10_900, fsyncMs: 60)); // under three windows
        Assert.False(Run(monitor, 10_900, 20_000, fsyncMs: 2));
    }

    [Fact]
    public void NoTransferBeforeTheMinimumTenureNorWhileFollowingNorWithinTheCooldown()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.False(Run(monitor, 0, 10_000, fsyncMs: 2, leading: false));
        Assert.False(Run(monitor, 10_000, 15_000, fsyncMs: 60, leading: false)); // degraded, but a follower

        // Leading from 15 s: degraded all along, but not before 3 s of tenure.
        var firstDue = double.NaN;
        for (var t = 15_000.0; t < 20_000; t += 50)
        {
            monitor.Leading(true, Ms(t));
            monitor.Sample(HealthMetric.FsyncMs, 60, Ms(t));
            if (monitor.TransferDue(Ms(t)))
            {
                firstDue = t;
                break;
            }
        }

        Assert.Equal(18_000, firstDue);
        monitor.Transferred(Ms(firstDue));
        // Still leading and still degraded (the transfer did not happen): not again within the cooldown.
        Assert.False(Run(monitor, 18_050, 47_950, fsyncMs: 60));
        Assert.True(Run(monitor, 48_000, 50_000, fsyncMs: 60));
    }

    [Fact]
    public void OnlyAllFollowersSlowCountsAsTheLeadersRoundTripDegrading()
    {
        var monitor = new LeaderHealthMonitor(Options);
        for (var t = 0.0; t < 10_000; t += 50)
        {
            monitor.Leading(true, Ms(t));
            monitor.RoundTrip(2, 1, Ms(t));
            monitor.RoundTrip(3, 1, Ms(t));
        }

        var due = false;
        for (var t = 10_000.0; t < 20_000; t += 50)
        {
            monitor.RoundTrip(2, 1, Ms(t));
            monitor.RoundTrip(3, 200, Ms(t)); // one slow follower: its problem, not the leader's
            due |= monitor.TransferDue(Ms(t));
        }

        Assert.False(due);
        for (var t = 20_000.0; t < 23_000 && !due; t += 50)
        {
            monitor.RoundTrip(2, 150, Ms(t));
            monitor.RoundTrip(3, 200, Ms(t));
            due = monitor.TransferDue(Ms(t));
        }

        Assert.True(due);
        Assert.Equal(HealthMetric.PeerRoundTripMs, Assert.Single(monitor.LastDegradation).Metric);
    }

    [Fact]
    public void OnlySendQueuesGrowingTowardsEveryFollowerCountAsTheLeadersDegrading()
    {
        var monitor = new LeaderHealthMonitor(Options);
        var random = new Random(7);
        for (var t = 0.0; t < 10_000; t += 50)
        {
            monitor.Leading(true, Ms(t));
            monitor.SendQueue(2, random.Next(0, 4), Ms(t));
            monitor.SendQueue(3, random.Next(0, 4), Ms(t));
        }

        var due = false;
        for (var t = 10_000.0; t < 20_000; t += 50)
        {
            monitor.SendQueue(2, random.Next(0, 4), Ms(t));
            monitor.SendQueue(3, 4096, Ms(t)); // one follower catching up or unreachable: its queue, not the leader's
            due |= monitor.TransferDue(Ms(t));
        }

        Assert.False(due);
        for (var t = 20_000.0; t < 23_000 && !due; t += 50)
        {
            monitor.SendQueue(2, 150 + random.Next(0, 50), Ms(t)); // within baseline + 256: not degraded
            monitor.SendQueue(3, 4096, Ms(t));
            due = monitor.TransferDue(Ms(t));
        }

        Assert.False(due);
        for (var t = 23_000.0; t < 26_000 && !due; t += 50)
        {
            monitor.SendQueue(2, 1_500, Ms(t));
            monitor.SendQueue(3, 4096, Ms(t));
            due = monitor.TransferDue(Ms(t));
        }

        Assert.True(due);
        var degraded = Assert.Single(monitor.LastDegradation);
        Assert.Equal(HealthMetric.SendQueue, degraded.Metric);
        Assert.Equal(1_500, degraded.Value);
    }

    [Fact]
    public void PerFollowerMetricsAreRefusedAsPlainSamples()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.Throws<ArgumentException>(() => monitor.Sample(HealthMetric.SendQueue, 1, Ms(0)));
        Assert.Throws<ArgumentException>(() => monitor.Sample(HealthMetric.PeerRoundTripMs, 1, Ms(0)));
    }

    [Fact]
    public void IdleWindowsNeitherCountNorBreakARun()
    {
        var monitor = new LeaderHealthMonitor(Options);
        Assert.False(Run(monitor, 0, 10_000, fsyncMs: 2));
        Assert.False(Run(monitor, 10_000, 11_000, fsyncMs: 60)); // two degraded windows
        monitor.Leading(true, Ms(14_000)); // 3 s without a sync
        Assert.True(Run(monitor, 14_000, 14_600, fsyncMs: 60));
    }
}
