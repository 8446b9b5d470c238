namespace Bulwark.Consensus.Tests;

public sealed class InvariantTests
{
    [Fact]
    public void AdvanceMustGetTheLastReady()
    {
        var cluster = new TestCluster(1);
        cluster[1].Campaign();
        var ready = cluster[1].GetReady();
        Assert.Throws<InvalidOperationException>(() => cluster[1].GetReady());
        Assert.Throws<RaftInvariantException>(() => cluster[1].Advance(ready with { }));
        cluster[1].Advance(ready);
        var ex = Assert.Throws<RaftInvariantException>(() => cluster[1].Advance(ready));
        Assert.Contains("no Ready outstanding", ex.Message);
    }

    [Fact]
    public void TwoLeadersInOneTermStopTheNode()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Status().HardState.Term;
        var ex = Assert.Throws<RaftInvariantException>(() =>
            cluster[1].Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = term }));
        Assert.Contains("two leaders", ex.Message);
        Assert.Throws<RaftInvariantException>(() =>
            cluster[3].Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 3, Term = term }));
    }

    [Fact]
    public void AnAppendBelowTheCommitIndexNeverTouchesCommittedEntries()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        cluster.Tick(1);
        var status = cluster[2].Status();
        var before = cluster.Peers[2].Log.ToList();
        cluster[2].Step(new Message
        {
            // A (broken) leader of a later term sends a different entry at our commit index.
            Type = MessageType.Append, From = 1, To = 2, Term = status.HardState.Term + 1,
            Index = status.HardState.Commit - 1, LogTerm = status.HardState.Term,
            Entries = [new Entry(status.HardState.Term + 1, status.HardState.Commit, EntryType.Normal, "evil"u8.ToArray())],
        });
        var answer = Assert.Single(cluster.TakeOutput(2));
        Assert.Equal((MessageType.AppendResponse, status.HardState.Commit, false), (answer.Type, answer.Index, answer.Reject));
        Assert.Equal(before, cluster.Peers[2].Log);
    }

    [Fact]
    public void CommitBeyondTheLogStopsTheNode()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[2].Status().HardState.Term;
        var ex = Assert.Throws<RaftInvariantException>(() =>
            cluster[2].Step(new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = term, Commit = 99 }));
        Assert.Contains("beyond the last index", ex.Message);
    }

    [Theory]
    [InlineData(0UL, 10, 1)]
    [InlineData(1UL, 1, 1)]
    [InlineData(1UL, 10, 0)]
    [InlineData(1UL, 10, 10)]
    public void BadConfigurationIsRefusedWithAClearMessage(ulong id, int electionTicks, int heartbeatTicks)
    {
        var ex = Assert.Throws<ArgumentException>(() => new RaftNode(
            new RaftConfig { Id = id, ElectionTicks = electionTicks, HeartbeatTicks = heartbeatTicks },
            RaftState.Bootstrap(ClusterConfig.Of(1)), new SeededRandom(1)));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void RecoveredStateMustBeConsistent()
    {
        var log = RaftLogTests.Entries(1, 1, 2);
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfig { Id = 1 },
            new RaftState(new HardState(2, 0, 0), new SnapshotMetadata(0, 0, ClusterConfig.Of(1)), RaftLogTests.Entries(2, 1), 0),
            new SeededRandom(1)));
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfig { Id = 1 },
            new RaftState(new HardState(2, 0, 5), new SnapshotMetadata(0, 0, ClusterConfig.Of(1)), log, 0), new SeededRandom(1)));
    }

    [Fact]
    public void HardStateBehindTheLogIsRaisedWithoutAVote()
    {
        // Entries of term 2 reached the disk, the hard state of their batch did not (crash before the sync).
        var node = new RaftNode(new RaftConfig { Id = 1 },
            new RaftState(new HardState(1, 3, 0), new SnapshotMetadata(0, 0, ClusterConfig.Of(1, 2, 3)),
                RaftLogTests.Entries(1, 1, 2), 0), new SeededRandom(1));
        Assert.Equal(new HardState(2, 0, 0), node.Status().HardState);
        var ready = node.GetReady();
        Assert.Equal(new HardState(2, 0, 0), ready.HardState); // persisted again before anything depends on it
        node.Advance(ready);
    }

    [Fact]
    public void MessagesForOthersOrFromNobodyAreIgnored()
    {
        var cluster = new TestCluster(3);
        cluster[1].Step(new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 5 });
        cluster[1].Step(new Message { Type = MessageType.Vote, From = 0, To = 1, Term = 5 });
        cluster[1].Step(new Message { Type = MessageType.Vote, From = 1, To = 1, Term = 5 });
        Assert.Equal(0UL, cluster[1].Status().HardState.Term);
        Assert.False(cluster[1].HasReady);
    }
}
