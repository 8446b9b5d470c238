namespace Bulwark.Consensus.Tests;

/// <summary>
/// <see cref="RaftNode.ReportConnectionLost"/>: followers that see their leader's connection close elect a new
/// leader within a few ticks instead of an election timeout, and a false report disturbs nobody.
/// </summary>
public sealed class ConnectionLossTests
{
    /// <summary>
    /// Fewer ticks than the shortest election timeout (10): only the early campaign can elect in time (a missed
    /// heartbeat, 2 ticks, then the first campaign's round trips).
    /// </summary>
    private const int FewTicks = 6;

    private static Func<RaftConfig, RaftConfig> With(bool preVote, bool checkQuorum) =>
        c => c with { PreVote = preVote, CheckQuorum = checkQuorum };

    private static bool IsCampaignFrom(Message m, ulong id) =>
        m.From == id && m.Type is MessageType.PreVote or MessageType.Vote;

    [Theory]
    [InlineData(3, true, true)]
    [InlineData(5, true, true)]
    [InlineData(3, false, false)]
    [InlineData(5, false, true)]
    public void FollowersThatLoseTheLeaderElectExactlyOneNewLeaderWithinAFewTicks(int voters, bool preVote, bool checkQuorum)
    {
        var cluster = new TestCluster(voters, With(preVote, checkQuorum));
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster.Peers[1].Down = true;
        foreach (var id in cluster.Peers.Keys.Where(id => id != 1))
        {
            cluster[id].ReportConnectionLost(1);
        }

        cluster.Tick(FewTicks);

        var leader = cluster.Leader();
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        // One campaign, no split vote: the new leader's term is the very next one.
        Assert.Equal(term + 1, cluster[leader.Value].Status().HardState.Term);
        Assert.All(cluster.Peers.Values.Where(p => !p.Down), p => Assert.Equal(leader, p.Node.Status().SoftState.Leader));
        // The lowest surviving id goes first.
        Assert.Equal(2UL, leader);
    }

    [Fact]
    public void FollowersStaggerTheirCampaignsByIdRank()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[1].Down = true;
        cluster.Filters.Add(_ => false); // nobody hears anybody: each node's own timer shows
        cluster[2].ReportConnectionLost(1);
        cluster[3].ReportConnectionLost(1);

        cluster.Tick(); // 1's next heartbeat may still come: both keep their leader
        Assert.All([2UL, 3UL], id => Assert.Equal(1UL, cluster[id].Status().SoftState.Leader));
        Assert.All([2UL, 3UL], id => Assert.Equal(Role.Follower, cluster[id].Status().SoftState.Role));
        cluster.Tick(); // it did not: both give 1 up, and 2 (rank 0) campaigns at once
        Assert.Equal(Role.PreCandidate, cluster[2].Status().SoftState.Role);
        Assert.Equal(Role.Follower, cluster[3].Status().SoftState.Role);
        Assert.Equal(0UL, cluster[3].Status().SoftState.Leader);
        cluster.Tick();
        Assert.Equal(Role.Follower, cluster[3].Status().SoftState.Role);
        cluster.Tick();
        Assert.Equal(Role.PreCandidate, cluster[3].Status().SoftState.Role);
    }

    [Fact]
    public void AFollowerThatGrantsAnEarlierCampaignersPreVoteDoesNotCompeteWithIt()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster.Peers[1].Down = true;
        // 2 (rank 0) campaigns first; its pre-vote reaches 3, its real vote request is slow to (lost here).
        cluster.Filters.Add(m => !(m.From == 2 && m.To == 3 && m.Type == MessageType.Vote));
        cluster[2].ReportConnectionLost(1);
        cluster[3].ReportConnectionLost(1);

        cluster.Tick(FewTicks);

        // 3 granted 2's pre-vote, so it left its short timer: campaigning at tick 3 would split the vote with 2.
        Assert.Contains(cluster.Delivered, m => m is { Type: MessageType.PreVoteResponse, From: 3, To: 2, Reject: false });
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 3));
        Assert.Equal(term, cluster[3].Status().HardState.Term);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void FalseReportWhileTheLeaderLivesChangesNeitherLeaderNorTerm(int voters)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        // The report reaches 2 while 1's heartbeats to it are delayed, so 2 sees 1 miss a heartbeat and campaigns
        // before it hears 1 again.
        cluster.Filters.Add(m => !(m.From == 1 && m.To == 2 && m.Type == MessageType.Heartbeat));
        cluster[2].ReportConnectionLost(1);
        Assert.Equal(1UL, cluster[2].Status().SoftState.Leader); // not believed before a heartbeat is missed
        cluster.Tick(2);
        Assert.Equal(0UL, cluster[2].Status().SoftState.Leader);
        Assert.Contains(cluster.Delivered, m => IsCampaignFrom(m, 2)); // it did try

        cluster.Heal();
        cluster.Tick(3 * 10);
        Assert.Equal(1UL, cluster.Leader());
        Assert.Equal(term, cluster[1].Status().HardState.Term);
        Assert.All(cluster.Peers.Values, p => Assert.Equal(1UL, p.Node.Status().SoftState.Leader));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(term, p.Node.Status().HardState.Term));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void FalseReportDoesNotDeposeAHealthyLeaderWhoseOtherFollowerIsCutOffFromIt(int heartbeatTicks)
    {
        // Issue 10: 1 leads; 3 hears nothing from 1 (one-way cut), so it keeps pre-campaigning and only 2's lease
        // stops it. One false report at 2, between two of 1's heartbeats, must not lift that lease nor start a
        // campaign that 3 (out of any lease) would back: 2 keeps hearing 1.
        var cluster = new TestCluster(3, c => c with { HeartbeatTicks = heartbeatTicks });
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster.Filters.Add(m => !(m.From == 1 && m.To == 3));
        cluster.Tick(3 * 10); // 3's election timer has fired: it is campaigning, 2 ignores it
        Assert.Contains(cluster.Delivered, m => IsCampaignFrom(m, 3));
        Assert.Equal(term, cluster[1].Status().HardState.Term);

        cluster[2].ReportConnectionLost(1);
        for (var tick = 0; tick < 10 * 10; tick++)
        {
            cluster.Tick();
            Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
            Assert.Equal(term, cluster[1].Status().HardState.Term);
            Assert.Equal(1UL, cluster[2].Status().SoftState.Leader);
        }
    }

    [Fact]
    public void LeadersNextHeartbeatCancelsTheReportAndTheNormalTimeoutStands()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[3].ReportConnectionLost(1); // rank 1: would give 1 up after 2 silent ticks and campaign 2 later
        Assert.Equal(1UL, cluster[3].Status().SoftState.Leader);

        cluster.Tick(); // 1's heartbeat arrives
        Assert.Equal(1UL, cluster[3].Status().SoftState.Leader);

        // 1 now falls silent toward 3: the report must be gone, so 3 waits a full election timeout.
        cluster.Filters.Add(m => !(m.From == 1 && m.To == 3));
        cluster.Delivered.Clear();
        cluster.Tick(9);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 3));
    }

    [Fact]
    public void AFollowerThatConfirmsTheLossATickLateStillAnswersTheFirstCampaignersPreVote()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster.Peers[1].Down = true;
        cluster[2].ReportConnectionLost(1);
        cluster.Tick(); // 3 sees the close a tick later than 2 (another socket, another tick phase)
        cluster[3].ReportConnectionLost(1);
        cluster.Tick(); // 2 confirms and campaigns; 3, still waiting on 1's heartbeat and in its lease, holds the pre-vote
        Assert.Equal(Role.PreCandidate, cluster[2].Status().SoftState.Role);
        Assert.Equal(1UL, cluster[3].Status().SoftState.Leader);

        cluster.Tick(); // 3 confirms: it answers the held pre-vote, and 2 wins the very next term

        Assert.Equal(2UL, cluster.Leader());
        Assert.Equal(term + 1, cluster[2].Status().HardState.Term);
        Assert.Equal(2UL, cluster[3].Status().SoftState.Leader);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 3));
    }

    [Fact]
    public void AFollowerThatVotesForTheFirstCampaignerWithoutPreVoteLeavesItsShortTimer()
    {
        var cluster = new TestCluster(3, With(preVote: false, checkQuorum: true));
        cluster.Elect(1);
        cluster.Peers[1].Down = true;
        cluster[2].ReportConnectionLost(1);
        cluster[3].ReportConnectionLost(1);
        cluster.Tick(2); // both confirm; 2 (rank 0) asks for votes at once, 3 (rank 1) grants its vote
        Assert.Equal(2UL, cluster.Leader());
        Assert.Equal(2UL, cluster[3].Status().SoftState.Leader);
        var term = cluster[2].Status().HardState.Term;

        // 2 now falls silent toward 3: the vote (adopting 2's term) must have ended 3's short timer.
        cluster.Filters.Add(m => !(m.From == 2 && m.To == 3));
        cluster.Delivered.Clear();
        cluster.Tick(9);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 3));
        Assert.Equal(term, cluster[3].Status().HardState.Term);
    }

    [Fact]
    public void RepeatedReportsDoNotPostponeTheConfirmation()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[1].Down = true;
        cluster[2].ReportConnectionLost(1);
        cluster.Tick();
        cluster[2].ReportConnectionLost(1); // every refused redial reports again
        cluster[3].ReportConnectionLost(1);
        cluster.Tick();
        Assert.Equal(0UL, cluster[2].Status().SoftState.Leader);
        Assert.Contains(cluster.Delivered, m => IsCampaignFrom(m, 2));
    }

    [Fact]
    public void ReportForAPeerThatIsNotTheLeaderHasNoEffect()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster[2].ReportConnectionLost(3);
        cluster[2].ReportConnectionLost(2);
        cluster[2].ReportConnectionLost(0);
        cluster[1].ReportConnectionLost(2); // the leader ignores it too
        Assert.False(cluster[2].HasReady);
        Assert.Equal(1UL, cluster[2].Status().SoftState.Leader);

        // 1 falls silent: 2 must now wait a full election timeout, as if nothing had been reported.
        cluster.Filters.Add(m => m.From != 1);
        cluster.Delivered.Clear();
        cluster.Tick(9);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 2));
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
        Assert.Equal(term, cluster[2].Status().HardState.Term);
    }

    [Fact]
    public void LearnerNeverCampaignsAndKeepsItsLeader()
    {
        var cluster = new TestCluster(3, learners: 1);
        cluster.Elect(1);
        cluster.Tick(); // the learner hears the leader
        Assert.Equal(1UL, cluster[4].Status().SoftState.Leader);
        cluster.Peers[1].Down = true;
        cluster.Isolate(4);
        cluster[4].ReportConnectionLost(1);
        Assert.Equal(1UL, cluster[4].Status().SoftState.Leader);

        cluster.Tick(50);
        Assert.Equal(Role.Learner, cluster[4].Status().SoftState.Role);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 4));
    }
}
