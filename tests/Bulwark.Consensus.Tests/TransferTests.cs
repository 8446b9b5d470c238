namespace Bulwark.Consensus.Tests;

public sealed class TransferTests
{
    [Theory]
    [InlineData(2UL, false)]
    [InlineData(3UL, false)]
    [InlineData(3UL, true)] // the target lags and is caught up first
    public void LeadershipMovesToTheTarget(ulong target, bool targetLags)
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        if (targetLags)
        {
            cluster.Filters.Add(m => m.To != target || m.Type != MessageType.Append);
            cluster.Propose(1, "a");
            cluster.Heal();
        }

        cluster[1].TransferLeadership(target);
        cluster.Stabilize();
        Assert.Equal(Role.Leader, cluster[target].Status().SoftState.Role);
        Assert.Equal(term + 1, cluster[target].Status().HardState.Term);
        Assert.Equal(Role.Follower, cluster[1].Status().SoftState.Role);
        cluster.Propose(target, "b");
        Assert.Equal(targetLags ? ["a", "b"] : ["b"], cluster.AppliedData(1));
    }

    [Fact]
    public void ProposalsAreRefusedDuringTransferAndResumeAfterItTimesOut()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "a"); // 3 now lags and cannot catch up
        cluster[1].TransferLeadership(3);
        Assert.Equal(3UL, cluster[1].Status().LeadTransferee);
        Assert.Equal(ProposeStatus.TransferInProgress, cluster[1].Propose("x"u8.ToArray()).Status);
        Assert.Equal(ProposeStatus.TransferInProgress,
            cluster[1].ProposeConfigChange(new ConfigChange(ConfigChangeType.AddLearner, 9)).Status);
        cluster.Tick(10); // one election timeout
        Assert.Equal(0UL, cluster[1].Status().LeadTransferee);
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
        Assert.Equal(ProposeStatus.Accepted, cluster[1].Propose("y"u8.ToArray()).Status);
    }

    [Theory]
    [InlineData(1UL)] // itself
    [InlineData(4UL)] // a learner
    [InlineData(9UL)] // not a member
    public void TransferToANonVoterIsIgnored(ulong target)
    {
        var cluster = new TestCluster(3, learners: 1);
        cluster.Elect(1);
        cluster[1].TransferLeadership(target);
        cluster.Stabilize();
        Assert.Equal(0UL, cluster[1].Status().LeadTransferee);
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
    }

    [Fact]
    public void FollowersIgnoreTransferRequests()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[2].TransferLeadership(3);
        cluster.Stabilize();
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
    }

    [Fact]
    public void TimeoutNowCampaignsEvenWithinTheLeaderLease()
    {
        // With check-quorum, followers ignore ordinary vote requests while they hear from the leader;
        // the transfer campaign carries a marker that lets it through.
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        cluster[1].TransferLeadership(4);
        cluster.Stabilize();
        Assert.Equal(4UL, cluster.Leader());
        Assert.Contains(cluster.Delivered, m => m.Type == MessageType.TimeoutNow && m.To == 4);
        Assert.DoesNotContain(cluster.Delivered, m => m.Type == MessageType.PreVote && m.From == 4);
    }
}
