namespace Bulwark.Consensus.Tests;

public sealed class SmokeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void ElectsReplicatesAndCommits(int voters)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(1, "a").Status);
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(1, "b").Status);
        foreach (var id in cluster.Peers.Keys)
        {
            Assert.Equal(["a", "b"], cluster.AppliedData(id));
        }
    }

    [Fact]
    public void ElectionByTicks()
    {
        var cluster = new TestCluster(3);
        cluster.Tick(40);
        Assert.NotNull(cluster.Leader());
        var leader = cluster.Leader()!.Value;
        cluster.Propose(leader, "x");
        foreach (var id in cluster.Peers.Keys)
        {
            Assert.Equal(["x"], cluster.AppliedData(id));
        }
    }
}

public sealed class SmokeSnapshotTests
{
    [Fact]
    public void LaggingFollowerCatchesUpBySnapshotAfterCompaction()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[3].Down = true;
        for (var i = 0; i < 10; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        cluster[1].Compact(cluster.Peers[1].AppliedIndex);
        cluster.Peers[3].Down = false;
        cluster.Tick(5);
        Assert.NotNull(cluster.Peers[3].Snapshot);
        cluster.Propose(1, "after");
        Assert.Equal(["after"], cluster.AppliedData(3));
        Assert.Equal(cluster[1].Status().LastIndex, cluster[3].Status().LastIndex);
    }

    [Fact]
    public void LeaderIsolatedNewLeaderElected()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Isolate(1);
        cluster.Tick(50);
        var leader = cluster.Leader();
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        cluster.Propose(leader.Value, "b");
        cluster.Heal();
        cluster.Tick(5);
        Assert.NotEqual(Role.Leader, cluster[1].Status().SoftState.Role);
        Assert.Equal(["a", "b"], cluster.AppliedData(1));
    }
}
