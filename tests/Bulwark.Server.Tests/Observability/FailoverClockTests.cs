using Bulwark.Server.Observability;

namespace Bulwark.Server.Tests.Observability;

public sealed class FailoverClockTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_leaderless_gap_however_short_is_one_failover_of_its_length()
    {
        var clock = new FailoverClock();
        Assert.Null(clock.LeaderChanged(1, Ms(0))); // the first leader after start is no failover
        Assert.Null(clock.LeaderChanged(0, Ms(1000)));
        Assert.Equal(Ms(26), clock.LeaderChanged(2, Ms(1026)));
        Assert.Null(clock.LeaderChanged(2, Ms(2000))); // nothing open any more
    }

    [Fact]
    public void The_clock_starts_when_the_leader_is_first_suspected()
    {
        var clock = new FailoverClock();
        clock.LeaderChanged(1, Ms(0));
        clock.Suspected(3, Ms(100)); // not the leader: no failover
        clock.Suspected(1, Ms(500));
        Assert.Null(clock.LeaderChanged(0, Ms(900)));
        Assert.Equal(Ms(700), clock.LeaderChanged(2, Ms(1200)));
    }

    [Fact]
    public void A_direct_handover_between_two_reports_counts_at_zero()
    {
        var clock = new FailoverClock();
        clock.LeaderChanged(1, Ms(0));
        Assert.Equal(TimeSpan.Zero, clock.LeaderChanged(2, Ms(300)));
    }
}
