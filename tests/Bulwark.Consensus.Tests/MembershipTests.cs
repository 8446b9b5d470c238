namespace Bulwark.Consensus.Tests;

public sealed class MembershipTests
{
    private static ConfigChange Change(ConfigChangeType type, ulong id) => new(type, id, "peer-url"u8.ToArray());

    /// <summary>
    /// A brand-new member starts, like every host does, from the founding configuration at index 0; the log (or a
    /// snapshot) brings it to the current one.
    /// </summary>
    private static RaftState Empty() => RaftState.Bootstrap(ClusterConfig.Of(1, 2, 3));

    private static TestCluster Ready3(int learners = 0)
    {
        var cluster = new TestCluster(3, learners: learners);
        cluster.Elect(1);
        return cluster;
    }

    [Fact]
    public void AddVoterCatchesUpAndCounts()
    {
        var cluster = Ready3();
        cluster.Propose(1, "before");
        cluster.AddPeer(4, Empty());
        var result = cluster[1].ProposeConfigChange(Change(ConfigChangeType.AddVoter, 4));
        Assert.Equal(ProposeStatus.Accepted, result.Status);
        cluster.Tick(3);
        Assert.Equal(ClusterConfig.Of(1, 2, 3, 4), cluster[1].Status().Config);
        Assert.Equal(ClusterConfig.Of(1, 2, 3, 4), cluster[4].Status().Config);
        Assert.Equal(["before"], cluster.AppliedData(4));
        Assert.Contains(cluster.Peers[4].Applied, e => e.Type == EntryType.ConfigChange);

        // Four voters need three: with 3 and 4 gone nothing commits.
        cluster.Partition(1, 2);
        var commit = cluster[1].Status().HardState.Commit;
        cluster.Propose(1, "x");
        Assert.Equal(commit, cluster[1].Status().HardState.Commit);
    }

    [Fact]
    public void RemoveVoterShrinksTheQuorum()
    {
        var cluster = Ready3();
        Assert.Equal(ProposeStatus.Accepted, cluster[1].ProposeConfigChange(Change(ConfigChangeType.RemoveVoter, 3)).Status);
        cluster.Stabilize();
        Assert.Equal(ClusterConfig.Of(1, 2), cluster[1].Status().Config);
        Assert.Equal(ClusterConfig.Of(1, 2), cluster[3].Status().Config);
        cluster.Peers[3].Down = true;
        cluster.Propose(1, "two of two");
        Assert.Equal(["two of two"], cluster.AppliedData(2));
        // The removed node never campaigns.
        cluster.Peers[3].Down = false;
        cluster.Isolate(3);
        cluster.Tick(60);
        Assert.Equal(Role.Follower, cluster[3].Status().SoftState.Role);
    }

    [Fact]
    public void LearnerReceivesTheLogThenIsPromoted()
    {
        var cluster = Ready3();
        cluster.AddPeer(4, Empty());
        cluster[1].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4));
        cluster.Propose(1, "a");
        cluster.Tick(2);
        Assert.Equal(["a"], cluster.AppliedData(4));
        Assert.Equal(Role.Learner, cluster[4].Status().SoftState.Role);
        Assert.True(cluster[1].Status().Progress.Single(p => p.Id == 4).IsLearner);

        Assert.Equal(ProposeStatus.Accepted, cluster[1].ProposeConfigChange(Change(ConfigChangeType.PromoteLearner, 4)).Status);
        cluster.Stabilize();
        Assert.Equal(ClusterConfig.Of(1, 2, 3, 4), cluster[4].Status().Config);
        Assert.Equal(Role.Follower, cluster[4].Status().SoftState.Role);
        cluster[1].TransferLeadership(4);
        cluster.Stabilize();
        Assert.Equal(4UL, cluster.Leader());
    }

    [Fact]
    public void RemovedLeaderStepsDownOnceTheChangeCommits()
    {
        var cluster = Ready3();
        var result = cluster[1].ProposeConfigChange(Change(ConfigChangeType.RemoveVoter, 1));
        Assert.Equal(ProposeStatus.Accepted, result.Status);
        // Until it commits, the old leader still leads (without counting itself).
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
        cluster.Stabilize();
        Assert.Equal(Role.Follower, cluster[1].Status().SoftState.Role);
        Assert.True(cluster[1].Status().HardState.Commit >= result.Index);
        cluster.Tick(40);
        var leader = cluster.Leader();
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        Assert.Equal(ClusterConfig.Of(2, 3), cluster[leader.Value].Status().Config);
        cluster.Propose(leader.Value, "without 1");
        Assert.Equal("without 1", cluster.AppliedData(2).Last());
    }

    [Fact]
    public void OneChangeAtATime()
    {
        var cluster = Ready3();
        cluster.Filters.Add(m => m.Type != MessageType.Append); // nothing commits
        Assert.Equal(ProposeStatus.Accepted, cluster[1].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).Status);
        Assert.Equal(ProposeStatus.ConfigChangeInProgress,
            cluster[1].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 5)).Status);
        cluster.Heal();
        cluster.Tick(2);
        Assert.Equal(ProposeStatus.Accepted, cluster[1].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 5)).Status);
    }

    [Fact]
    public void NewLeaderRefusesChangesUntilItCommitsAnEntryOfItsTerm()
    {
        var cluster = Ready3();
        cluster.Filters.Add(m => m.Type != MessageType.Append);
        cluster[1].TransferLeadership(2);
        cluster.Stabilize();
        Assert.Equal(Role.Leader, cluster[2].Status().SoftState.Role);
        Assert.Equal(ProposeStatus.ConfigChangeInProgress,
            cluster[2].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).Status);
        cluster.Heal();
        cluster.Tick(2);
        Assert.Equal(ProposeStatus.Accepted, cluster[2].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).Status);
    }

    [Theory]
    [InlineData(ConfigChangeType.AddVoter, 2UL)]      // already a voter
    [InlineData(ConfigChangeType.AddVoter, 4UL)]      // a learner: promote instead
    [InlineData(ConfigChangeType.AddLearner, 3UL)]    // a voter
    [InlineData(ConfigChangeType.AddLearner, 4UL)]    // already a learner
    [InlineData(ConfigChangeType.PromoteLearner, 3UL)]
    [InlineData(ConfigChangeType.PromoteLearner, 9UL)]
    [InlineData(ConfigChangeType.RemoveVoter, 9UL)]
    [InlineData(ConfigChangeType.AddVoter, 0UL)]
    public void NonsensicalChangesAreRefused(ConfigChangeType type, ulong node)
    {
        var cluster = Ready3(learners: 1);
        var change = new ConfigChange(type, node);
        Assert.Equal(ProposeStatus.InvalidConfigChange, cluster[1].ProposeConfigChange(change).Status);
        Assert.NotNull(cluster[1].ExplainConfigChange(change));
    }

    [Fact]
    public void TheLastVoterCannotBeRemoved()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        Assert.Equal(ProposeStatus.InvalidConfigChange,
            cluster[1].ProposeConfigChange(Change(ConfigChangeType.RemoveVoter, 1)).Status);
    }

    [Fact]
    public void FollowersForwardChanges()
    {
        var cluster = Ready3();
        Assert.Equal(ProposeStatus.Forwarded, cluster[2].ProposeConfigChange(Change(ConfigChangeType.AddLearner, 7)).Status);
        cluster.Stabilize();
        Assert.Contains(7UL, cluster[3].Status().Config.Learners);
    }

    [Fact]
    public void AnUncommittedChangeIsRevertedWhenItsEntryIsOverwritten()
    {
        var cluster = Ready3();
        // Leader 1 appends "remove 3" but only node 2 ... no: nobody gets it, then 1 is cut off.
        cluster.Isolate(1);
        cluster[1].ProposeConfigChange(Change(ConfigChangeType.RemoveVoter, 3));
        cluster.Stabilize();
        Assert.Equal(ClusterConfig.Of(1, 2), cluster[1].Status().Config); // in force on append
        cluster.Tick(40);
        var leader = cluster.Leader(); // 2 or 3 leads a newer term
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        cluster.Heal();
        cluster.Propose(leader.Value, "x");
        cluster.Tick(2);
        Assert.Equal(ClusterConfig.Of(1, 2, 3), cluster[1].Status().Config);
        Assert.DoesNotContain(cluster.Peers[1].Applied, e => e.Type == EntryType.ConfigChange);
    }

    [Fact]
    public void ConfigChangeEncodingRoundTrips()
    {
        var change = new ConfigChange(ConfigChangeType.PromoteLearner, 0xDEADBEEF, "ctx"u8.ToArray());
        var decoded = ConfigChange.Decode(change.Encode());
        Assert.Equal((change.Type, change.NodeId), (decoded.Type, decoded.NodeId));
        Assert.Equal("ctx"u8.ToArray(), decoded.Context.ToArray());
        Assert.Throws<FormatException>(() => ConfigChange.Decode(new byte[3]));
    }
}
