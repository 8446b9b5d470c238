using Bulwark.Consensus;
using Bulwark.Server.Admin;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Observability;

public sealed class HealthCheckTests
{
    private static NodeStatus Status(Role role, ulong leader, ulong commit, ulong applied) => new(1, leader, role, 3, commit, applied, commit, 0);

    [Fact]
    public void Leader_replica_and_readiness_answer_as_a_load_balancer_needs()
    {
        var leader = Status(Role.Leader, 1, 100, 100);
        var follower = Status(Role.Follower, 1, 100, 40);
        var orphan = Status(Role.Follower, 0, 100, 100);

        Assert.Equal(200, HealthCheck.Leader(leader).StatusCode);
        Assert.Equal(503, HealthCheck.Leader(follower).StatusCode);
        Assert.Equal(503, HealthCheck.Replica(leader, 1000).StatusCode);
        Assert.Equal(200, HealthCheck.Replica(follower, 60).StatusCode);
        var lagging = HealthCheck.Replica(follower, 59);
        Assert.Equal(503, lagging.StatusCode);
        Assert.Equal("lag 60 entries > 59", lagging.Reason);
        Assert.Equal("RAFT NO LEADER", HealthCheck.Etcd(orphan).Reason);
        Assert.Equal(200, HealthCheck.Etcd(follower).StatusCode);
        Assert.Equal(503, HealthCheck.Ready(orphan).StatusCode);
        Assert.Equal(200, HealthCheck.Ready(follower).StatusCode);
        Assert.Equal(503, HealthCheck.Ready(Status(Role.Follower, 1, 5000, 10)).StatusCode);
        Assert.Equal(503, HealthCheck.Live(false).StatusCode);
    }

    [Fact]
    public void Replica_lag_parameter_is_validated()
    {
        Assert.True(HealthCheck.TryParseLag(null, out var lag, out _));
        Assert.Equal(HealthCheck.DefaultReplicaLag, lag);
        Assert.True(HealthCheck.TryParseLag("7", out lag, out _));
        Assert.Equal(7UL, lag);
        Assert.False(HealthCheck.TryParseLag("-1", out _, out var error));
        Assert.Contains("'lag' is '-1'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_alarm_makes_every_member_unhealthy_with_etcds_reason()
    {
        var leader = Status(Role.Leader, 1, 100, 100) with { CorruptAlarm = true };
        Assert.Equal(new HealthResult(false, "ALARM CORRUPT"), HealthCheck.Etcd(leader));
        Assert.Equal(new HealthResult(false, "ALARM CORRUPT"), HealthCheck.Ready(leader));
        // NOSPACE is reported first when both are raised, as etcd lists NOSPACE before CORRUPT.
        Assert.Equal("ALARM NOSPACE", HealthCheck.Etcd(leader with { NoSpaceAlarm = true }).Reason);
        // Liveness is not about data: the process still serves reads.
        Assert.True(HealthCheck.Live(loopRunning: true).Healthy);
    }
}
