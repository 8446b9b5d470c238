namespace Bulwark.Consensus.Tests;

/// <summary>
/// <see cref="RaftNode.ReportLeaderSuspected"/>: followers whose host's failure detector stopped hearing the leader
/// (a paused or cut-off leader closes no connection) elect a new leader within a few ticks instead of an election
/// timeout; a follower that alone suspects a leader the others still hear changes neither leader nor term.
/// </summary>
public sealed class LeaderSuspicionTests
{
    /// <summary>Fewer ticks than the shortest election timeout (10 at the test cluster's defaults).</summary>
    private const int FewTicks = 5;

    private static bool IsCampaignFrom(Message m, ulong id) =>
        m.From == id && m.Type is MessageType.PreVote or MessageType.Vote;

    /// <summary>
    /// Each follower's detector fires on its own tick (the order given): the leader is replaced after the last of a
    /// quorum of them, in one campaign (the term moves by exactly one, no split vote).
    /// </summary>
    [Theory]
    [InlineData(3, new ulong[] { 2, 3 })]
    [InlineData(3, new ulong[] { 3, 2 })]
    [InlineData(5, new ulong[] { 2, 3, 4, 5 })]
    [InlineData(5, new ulong[] { 5, 4, 3, 2 })]
    [InlineData(5, new ulong[] { 4, 2, 5 })]
    [InlineData(5, new ulong[] { 3, 5, 2 })]
    public void APausedLeaderIsReplacedInFewerTicksThanAnElectionTimeout(int voters, ulong[] suspicionOrder)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        cluster.Tick(); // everybody hears the leader: every follower is inside its lease
        var term = cluster[1].Status().HardState.Term;
        cluster.Peers[1].Down = true; // SIGSTOP: nothing closes, nothing arrives

        var ticks = 0;
        foreach (var id in suspicionOrder)
        {
            cluster[id].ReportLeaderSuspected(1);
            cluster.Tick();
            ticks++;
        }

        while (cluster.Leader() is null && ticks < FewTicks + suspicionOrder.Length)
        {
            cluster.Tick();
            ticks++;
        }

        var leader = cluster.Leader();
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        Assert.True(ticks < 10, $"took {ticks} ticks, an election timeout is 10");
        Assert.Equal(term + 1, cluster[leader.Value].Status().HardState.Term);
        Assert.All(cluster.Peers.Where(p => !p.Value.Down && suspicionOrder.Contains(p.Key)),
            p => Assert.Equal(leader, p.Value.Node.Status().SoftState.Leader));
    }

    [Fact]
    public void APartitionedLeaderIsReplacedAndStepsDownOnceItHearsTheNewTerm()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Tick();
        var term = cluster[1].Status().HardState.Term;
        cluster.Isolate(1);
        cluster[3].ReportLeaderSuspected(1);
        cluster.Tick();
        cluster[2].ReportLeaderSuspected(1);
        cluster.Tick(FewTicks);

        Assert.Equal(2UL, cluster[2].Status().SoftState.Leader);
        Assert.Equal(2UL, cluster[3].Status().SoftState.Leader);
        Assert.Equal(term + 1, cluster[2].Status().HardState.Term);

        cluster.Heal();
        cluster.Tick(3);
        Assert.Equal(2UL, cluster.Leader());
        Assert.All(cluster.Peers.Values, p => Assert.Equal(2UL, p.Node.Status().SoftState.Leader));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(term + 1, p.Node.Status().HardState.Term));
    }

    /// <summary>
    /// The leader's messages to 3 are cut (one way: 3 still reaches everybody), so 3's detector suspects the leader
    /// on every tick. The other followers still hear the leader and refuse its campaigns: the leader stays.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void AFollowerCutOffAloneCannotDeposeAHealthyLeader(int voters)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        cluster.Tick();
        var term = cluster[1].Status().HardState.Term;
        cluster.Filters.Add(m => !(m.From == 1 && m.To == 3));

        for (var tick = 0; tick < 20 * 10; tick++)
        {
            cluster[3].ReportLeaderSuspected(1);
            cluster.Tick();
            Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
            Assert.Equal(term, cluster[1].Status().HardState.Term);
            Assert.All(cluster.Peers.Where(p => p.Key != 3), p => Assert.Equal(1UL, p.Value.Node.Status().SoftState.Leader));
        }

        Assert.Contains(cluster.Delivered, m => IsCampaignFrom(m, 3)); // it did try, and was refused
        Assert.All(cluster.Peers.Values, p => Assert.Equal(term, p.Node.Status().HardState.Term));
    }

    /// <summary>
    /// A detector that fires on a late heartbeat (jitter) at one follower at a time, however often: the follower's
    /// pre-vote is refused, the leader's next heartbeat brings it back, and no term changes.
    /// </summary>
    [Theory]
    [InlineData(3, 1)]
    [InlineData(5, 2)]
    [InlineData(5, 3)]
    public void FalseSuspicionsAtOneFollowerAtATimeChangeNeitherLeaderNorTerm(int voters, int seed)
    {
        var cluster = new TestCluster(voters, seed: seed);
        cluster.Elect(1);
        cluster.Tick();
        var term = cluster[1].Status().HardState.Term;
        var random = new Random(seed);
        var followers = cluster.Peers.Keys.Where(id => id != 1).ToArray();

        for (var tick = 0; tick < 300; tick++)
        {
            if (random.Next(3) == 0)
            {
                var id = followers[random.Next(followers.Length)];
                cluster[id].ReportLeaderSuspected(1);
            }

            cluster.Tick();
            Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
        }

        Assert.Contains(cluster.Delivered, m => followers.Any(id => IsCampaignFrom(m, id)));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(term, p.Node.Status().HardState.Term));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(1UL, p.Node.Status().SoftState.Leader));
    }

    [Fact]
    public void ASuspicionIsIgnoredOnTheLeaderAboutANonLeaderAndOnALearner()
    {
        var cluster = new TestCluster(3, learners: 1);
        cluster.Elect(1);
        cluster.Tick();
        cluster[2].ReportLeaderSuspected(3); // not its leader
        cluster[2].ReportLeaderSuspected(0);
        cluster[1].ReportLeaderSuspected(2); // the leader suspects nobody out of office
        cluster[4].ReportLeaderSuspected(1); // learners never campaign
        Assert.Equal(1UL, cluster[2].Status().SoftState.Leader);
        Assert.Equal(1UL, cluster[4].Status().SoftState.Leader);
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);

        cluster.Tick(30);
        Assert.DoesNotContain(cluster.Delivered, m => IsCampaignFrom(m, 2) || IsCampaignFrom(m, 4));
    }
}
