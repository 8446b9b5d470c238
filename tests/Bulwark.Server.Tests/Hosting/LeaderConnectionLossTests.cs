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
        cluster.Node(0).Campaign(); // the first election cannot come from a timer either
        var oldLeader = await cluster.WaitForLeaderAsync();
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
}
