namespace Bulwark.Consensus.Tests;

public sealed class ElectionTests
{
    private static Func<RaftConfig, RaftConfig> With(bool preVote, bool checkQuorum) =>
        c => c with { PreVote = preVote, CheckQuorum = checkQuorum };

    [Theory]
    [InlineData(false, false, 3)]
    [InlineData(true, false, 3)]
    [InlineData(false, true, 3)]
    [InlineData(true, true, 3)]
    [InlineData(true, true, 5)]
    [InlineData(false, false, 5)]
    public void TicksElectExactlyOneLeader(bool preVote, bool checkQuorum, int voters)
    {
        for (var seed = 1; seed <= 5; seed++)
        {
            var cluster = new TestCluster(voters, With(preVote, checkQuorum), seed);
            cluster.Tick(25);
            var leaders = cluster.Peers.Values.Where(p => p.Node.Status().SoftState.Role == Role.Leader).ToList();
            Assert.Single(leaders);
            var leaderTerm = leaders[0].Node.Status().HardState.Term;
            Assert.All(cluster.Peers.Values, p => Assert.Equal(leaderTerm, p.Node.Status().HardState.Term));
            Assert.All(cluster.Peers.Values, p => Assert.Equal(leaders[0].Node.Id, p.Node.Status().SoftState.Leader));
        }
    }

    [Fact]
    public void FirstElectionTimeoutIsRandomizedWithinOneToTwoElectionTimeouts()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var node = new RaftNode(new RaftConfig { Id = 1, ElectionTicks = 10, PreVote = false },
                RaftState.Bootstrap(ClusterConfig.Of(1, 2, 3)), new SeededRandom(seed));
            var ticks = 0;
            while (node.Status().SoftState.Role == Role.Follower)
            {
                node.Tick();
                ticks++;
            }

            Assert.InRange(ticks, 10, 19);
        }
    }

    [Fact]
    public void SplitVoteElectsNobodyThenRetries()
    {
        var cluster = new TestCluster(4, With(false, false));
        // 1 and 3 campaign at once; 2 hears only 1 and 4 hears only 3: two votes each, three needed.
        cluster.Filters.Add(m => !(m.Type == MessageType.Vote && ((m.From == 1 && m.To == 4) || (m.From == 3 && m.To == 2))));
        cluster[1].Campaign();
        cluster[3].Campaign();
        cluster.Stabilize();
        Assert.Null(cluster.Leader());
        Assert.Equal(Role.Candidate, cluster[1].Status().SoftState.Role);
        Assert.Equal(Role.Candidate, cluster[3].Status().SoftState.Role);
        cluster.Heal();
        cluster.Tick(60);
        Assert.NotNull(cluster.Leader());
        Assert.True(cluster[cluster.Leader()!.Value].Status().HardState.Term >= 2);
    }

    [Theory]
    // voter's log terms, candidate last index, candidate last term, granted
    [InlineData(new ulong[] { 1, 1, 2 }, 3UL, 2UL, true)]
    [InlineData(new ulong[] { 1, 1, 2 }, 4UL, 2UL, true)]
    [InlineData(new ulong[] { 1, 1, 2 }, 2UL, 2UL, false)] // same last term, shorter
    [InlineData(new ulong[] { 1, 1, 2 }, 9UL, 1UL, false)] // longer but older last term
    [InlineData(new ulong[] { 1, 1, 2 }, 1UL, 3UL, true)]  // newer last term wins regardless of length
    [InlineData(new ulong[] { }, 0UL, 0UL, true)]
    public void VoteRequiresAnUpToDateLog(ulong[] voterLog, ulong lastIndex, ulong lastTerm, bool granted)
    {
        foreach (var type in new[] { MessageType.Vote, MessageType.PreVote })
        {
            var voter = NodeWithLog(voterLog, faults: RaftTestFaults.None);
            voter.Node.Step(new Message { Type = type, From = 2, To = 1, Term = 5, Index = lastIndex, LogTerm = lastTerm });
            var response = Assert.Single(voter.Output());
            Assert.Equal(type == MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse, response.Type);
            Assert.Equal(!granted, response.Reject);
        }
    }

    [Fact]
    public void TestFaultGrantsVotesToStaleLogs()
    {
        var voter = NodeWithLog([1, 1, 2], new RaftTestFaults { GrantVoteIgnoringLogFreshness = true });
        voter.Node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 5, Index = 9, LogTerm = 1 });
        Assert.False(Assert.Single(voter.Output()).Reject);
    }

    [Fact]
    public void OneVotePerTerm()
    {
        var voter = NodeWithLog([], RaftTestFaults.None);
        voter.Node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 1 });
        voter.Node.Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = 1 });
        voter.Node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 1 });
        var responses = voter.Output();
        Assert.Equal([false, true, false], responses.Select(r => r.Reject));
        Assert.Equal(2UL, voter.Node.Status().HardState.Vote);
    }

    [Fact]
    public void VoteResponsesWaitForTheVoteToBeDurable()
    {
        var voter = NodeWithLog([], RaftTestFaults.None);
        voter.Node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 1 });
        var ready = voter.Node.GetReady();
        Assert.Empty(ready.Messages);
        Assert.Single(ready.MessagesAfterPersist);
        Assert.Equal(new HardState(1, 2, 0), ready.HardState);
        Assert.True(ready.MustSync);
        voter.Node.Advance(ready);
    }

    [Theory]
    // pre-vote, check-quorum, is the leader kept when a stale, partitioned node comes back
    [InlineData(true, true, true)]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    [InlineData(false, false, false)]
    public void PreVoteKeepsAReturningNodeFromDisruptingTheLeader(bool preVote, bool checkQuorum, bool kept)
    {
        var cluster = new TestCluster(3, With(preVote, checkQuorum));
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        cluster.Isolate(3);
        cluster.Propose(1, "while 3 was away");
        cluster.Tick(60);
        var isolatedTerm = cluster[3].Status().HardState.Term;
        if (preVote)
        {
            Assert.Equal(term, isolatedTerm); // failed pre-votes leave no trace
        }
        else
        {
            Assert.True(isolatedTerm > term);
        }

        cluster.Heal();
        cluster.Tick(30);
        Assert.Equal(kept, cluster[1].Status().SoftState.Role == Role.Leader && cluster[1].Status().HardState.Term == term);
        cluster.Tick(60);
        Assert.NotNull(cluster.Leader());
        Assert.Equal(["while 3 was away"], cluster.AppliedData(3));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void CheckQuorumDeposesAnIsolatedLeader(bool checkQuorum, bool stillLeader)
    {
        var cluster = new TestCluster(3, With(true, checkQuorum));
        cluster.Elect(1);
        cluster.Isolate(1);
        for (var i = 0; i < 25; i++)
        {
            cluster[1].Tick();
            cluster.Stabilize();
        }

        Assert.Equal(stillLeader, cluster[1].Status().SoftState.Role == Role.Leader);
    }

    [Fact]
    public void FollowerInLeaseIgnoresVotesUnlessForcedByTransfer()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[2].Status().HardState.Term;
        cluster[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 1, Index = 99, LogTerm = term });
        Assert.Empty(cluster.TakeOutput(2));
        Assert.Equal(term, cluster[2].Status().HardState.Term);

        cluster[2].Step(new Message
        {
            Type = MessageType.Vote, From = 3, To = 2, Term = term + 1, Index = 99, LogTerm = term,
            Context = "CampaignTransfer"u8.ToArray(),
        });
        var response = Assert.Single(cluster.TakeOutput(2));
        Assert.False(response.Reject);
        Assert.Equal(term + 1, cluster[2].Status().HardState.Term);
    }

    [Fact]
    public void LearnersAndRemovedNodesNeverCampaign()
    {
        var cluster = new TestCluster(3, learners: 1);
        cluster.Isolate(4);
        cluster.Tick(100);
        Assert.Equal(Role.Learner, cluster[4].Status().SoftState.Role);
        Assert.Equal(0UL, cluster[4].Status().HardState.Term);
        cluster[4].Campaign();
        Assert.Equal(Role.Learner, cluster[4].Status().SoftState.Role);
    }

    [Fact]
    public void StaleLeaderStepsDownOnHigherTerm()
    {
        var cluster = new TestCluster(3, With(false, false));
        cluster.Elect(1);
        cluster.Isolate(1);
        cluster.Elect(2);
        Assert.Equal(Role.Leader, cluster[1].Status().SoftState.Role);
        cluster.Heal();
        cluster.Tick(2);
        Assert.Equal(Role.Follower, cluster[1].Status().SoftState.Role);
        Assert.Equal(2UL, cluster[1].Status().SoftState.Leader);
    }

    [Fact]
    public void AStaleVoteRequestIsRejectedWithTheHigherTermAndTheCandidateAdoptsIt()
    {
        // Raft's Figure 2: "reply false if term < currentTerm". Ignoring it (as etcd does) leaves the candidate unaware of
        // the higher term when the node holding it cannot campaign itself (simulator seed 5016160).
        var cluster = new TestCluster(3, With(false, false));
        cluster[3].Step(new Message { Type = MessageType.Heartbeat, From = 1, To = 3, Term = 7 });
        cluster.TakeOutput(3);
        cluster[2].Campaign();
        var requests = cluster.TakeOutput(2).Where(m => m.Type == MessageType.Vote && m.To == 3).ToList();
        Assert.Single(requests);
        Assert.True(requests[0].Term < 7);

        cluster[3].Step(requests[0]);
        var answer = Assert.Single(cluster.TakeOutput(3), m => m.Type == MessageType.VoteResponse);
        Assert.True(answer.Reject);
        Assert.Equal(7UL, answer.Term);

        cluster[2].Step(answer);
        Assert.Equal(Role.Follower, cluster[2].Status().SoftState.Role);
        Assert.Equal(7UL, cluster[2].Status().HardState.Term);
    }

    [Fact]
    public void CandidateBecomesFollowerOnAppendOfItsTerm()
    {
        var cluster = new TestCluster(3, With(false, false));
        cluster[2].Campaign();
        cluster.TakeOutput(2);
        Assert.Equal(Role.Candidate, cluster[2].Status().SoftState.Role);
        cluster[2].Step(new Message { Type = MessageType.Heartbeat, From = 3, To = 2, Term = 1 });
        Assert.Equal(Role.Follower, cluster[2].Status().SoftState.Role);
        Assert.Equal(3UL, cluster[2].Status().SoftState.Leader);
    }

    [Fact]
    public void RestartedNodeKeepsTermAndVote()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Restart(2);
        var status = cluster[2].Status();
        Assert.Equal(cluster[1].Status().HardState.Term, status.HardState.Term);
        Assert.Equal(1UL, status.HardState.Vote);
        Assert.Equal(cluster[1].Status().Applied, cluster[2].Status().Applied); // applied index survives restart
        cluster.Propose(1, "b");
        Assert.Equal(["b"], cluster.AppliedData(2));
    }

    internal sealed record LoneNode(RaftNode Node, TestCluster Cluster)
    {
        public List<Message> Output() => Cluster.TakeOutput(1);
    }

    /// <summary>Node 1 of {1,2,3} holding entries of the given terms, at a term at least the last one.</summary>
    internal static LoneNode NodeWithLog(ulong[] terms, RaftTestFaults faults)
    {
        var cluster = new TestCluster(3, c => c with { TestFaults = faults, CheckQuorum = false });
        var entries = RaftLogTests.Entries(1, terms);
        var lastTerm = terms.Length == 0 ? 0 : terms[^1];
        var peer = cluster.AddPeer(1, new RaftState(new HardState(lastTerm, 0, 0),
            new SnapshotMetadata(0, 0, ClusterConfig.Of(1, 2, 3)), entries, 0));
        return new LoneNode(peer.Node, cluster);
    }
}
