using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// Fast failover on real sockets: when the leader's process goes away its peers see its connections close and elect
/// a new leader without waiting for an election timeout.
/// </summary>
public sealed class LeaderConnectionLossTests
{
    /// <summary>Far beyond <see cref="LocalCluster.Patience"/>: no election timer can fire while the test waits.</summary>
    private static readonly TimeSpan NeverWithinTheTest = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Stopping_the_leader_elects_a_new_one_through_the_closed_connections_alone()
    {
        await using var cluster = new LocalCluster(3, adjust: o => o with { ElectionTimeout = NeverWithinTheTest });
        cluster.StartAll();
        var oldLeader = await cluster.ElectAsync(0); // the first election cannot come from a timer either
        Assert.True((await cluster.Node(oldLeader).ProposeAsync(NodeHostClusterTests.Put("before", "1"))).Succeeded);
        var oldTerm = cluster.Node(oldLeader).Status.Term;

        await cluster.StopAsync(oldLeader);

        // Only the connection-loss signal can elect within the patience: the election timeout is minutes away.
        var newLeader = await cluster.WaitForLeaderAsync(notThis: oldLeader);
        Assert.NotEqual(oldLeader, newLeader);
        Assert.True(cluster.Node(newLeader).Status.Term > oldTerm);
        var after = await cluster.Node(newLeader).ProposeAsync(NodeHostClusterTests.Put("after", "2"));
        Assert.True(after.Succeeded, after.Error?.Message);
        var survivor = cluster.Running.Single(i => i != newLeader);
        await cluster.WaitForConvergenceAsync(newLeader);
        Assert.Equal("1", NodeHostClusterTests.Get(cluster.Node(survivor), "before"));
        Assert.Equal("2", NodeHostClusterTests.Get(cluster.Node(survivor), "after"));
    }

    /// <summary>
    /// Regression (a CI failure of the test above): with election timers that never fire, a campaign whose votes the
    /// transport dropped — queued for a peer whose dial was refused — leaves the cluster leaderless for good. The
    /// first election now campaigns again until a leader is agreed (<see cref="LocalCluster.ElectAsync"/>).
    /// </summary>
    [Fact]
    public async Task A_first_campaign_whose_votes_were_dropped_is_followed_by_another_until_a_leader_is_agreed()
    {
        await using var cluster = new LocalCluster(3, adjust: o => o with { ElectionTimeout = NeverWithinTheTest });
        cluster.Start(0);
        cluster.Node(0).Campaign();
        // Nobody listens at the peers' addresses yet: the pre-votes to both are dropped.
        await LocalCluster.EventuallyAsync(() => cluster.Node(0).PeerMessagesDropped >= 2, "the first campaign's pre-votes dropped");
        cluster.Start(1);
        cluster.Start(2);

        var leader = await cluster.ElectAsync(0);

        Assert.Equal(cluster.Node(leader).MemberId, cluster.Node(0).Status.Leader);
        Assert.True((await cluster.Node(leader).ProposeAsync(NodeHostClusterTests.Put("elected", "1"))).Succeeded);
    }
}
