using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// A follower forwards its clients' puts and linearizable reads to the leader. When the leader's process has just died,
/// the follower still believes in it until it misses a heartbeat, and forwards into a dead connection: the transport
/// drops the request unsent, and the caller must hear "no leader" at once (a client then tries another member) rather
/// than wait out the request timeout. This was most of the extra failover time measured in docs/benchmarks.md.
/// </summary>
public sealed class UndeliveredRequestTests
{
    /// <summary>Far beyond <see cref="LocalCluster.Patience"/>.</summary>
    private static readonly TimeSpan NeverWithinTheTest = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Ticks minutes long: the follower cannot miss a heartbeat (and so cannot give up the dead leader) within the test,
    /// election timers never fire, and a request waits for minutes unless something fails it.
    /// </summary>
    private static NodeHostOptions FrozenTimers(NodeHostOptions o) => o with
    {
        HeartbeatInterval = NeverWithinTheTest,
        ElectionTimeout = 10 * NeverWithinTheTest,
        RequestTimeout = NeverWithinTheTest,
    };

    [Fact]
    public async Task A_put_and_a_read_forwarded_to_a_dead_leader_fail_at_once_with_no_leader()
    {
        await using var cluster = new LocalCluster(3, adjust: FrozenTimers);
        cluster.StartAll();
        var leader = await cluster.ElectAsync(0);
        var follower = cluster.Running.First(i => i != leader);
        var leaderId = cluster.Node(leader).MemberId;
        Assert.True((await cluster.Node(follower).ProposeAsync(NodeHostClusterTests.Put("before", "1"))).Succeeded);

        await cluster.StopAsync(leader);
        // Once the follower saw the connection close, nothing it forwards can reach the old leader.
        await LocalCluster.EventuallyAsync(
            () => cluster.Node(follower).PeerTransportStats().Any(p => p.PeerId == leaderId && !p.Connected),
            "the follower saw its connection to the leader close");
        Assert.Equal(leaderId, cluster.Node(follower).Status.Leader); // it still believes in the leader

        var put = cluster.Node(follower).ProposeAsync(NodeHostClusterTests.Put("after", "2"));
        var read = cluster.Node(follower).LinearizableBarrierAsync();

        var putError = await Assert.ThrowsAsync<NodeException>(() => put.WaitAsync(LocalCluster.Patience));
        Assert.Equal(NodeError.NoLeader, putError.Error);
        var readError = await Assert.ThrowsAsync<NodeException>(() => read.WaitAsync(LocalCluster.Patience));
        Assert.Equal(NodeError.NoLeader, readError.Error);
        Assert.Null(NodeHostClusterTests.Get(cluster.Node(follower), "after"));
    }
}
