namespace Bulwark.Consensus.Tests;

public sealed class CommitRuleTests
{
    /// <summary>
    /// Figure 8 of the Raft paper, reduced to the decision itself: a leader of term 3 has replicated an entry of
    /// term 2 to a majority, but none of its own term yet. Counting replicas must not commit the old entry.
    /// </summary>
    [Theory]
    [InlineData(false, 1UL)]
    [InlineData(true, 2UL)]
    public void EarlierTermEntriesAreNotCommittedByCounting(bool faulty, ulong expectedCommit)
    {
        var cluster = new TestCluster(3, c => c with
        {
            PreVote = false, MaxMessageBytes = 1,
            TestFaults = new RaftTestFaults { CommitPreviousTermEntriesByCount = faulty },
        });
        cluster.AddPeer(1, ReplicationTests.StateWithLog([1, 2], commit: 1, term: 2));
        cluster.AddPeer(2, ReplicationTests.StateWithLog([1], commit: 1, term: 2));
        cluster.AddPeer(3, ReplicationTests.StateWithLog([1], commit: 1, term: 2));
        // Entries of the new term never arrive; the old entry (index 2, term 2) does.
        cluster.Transforms.Add(m => m.Type == MessageType.Append ? m with { Entries = [.. m.Entries.Where(e => e.Term != 3)] } : m);
        cluster.Elect(1);
        cluster.Tick(3);

        Assert.Equal(3UL, cluster[1].Status().HardState.Term);
        Assert.Equal(2UL, cluster[1].Status().Progress.Single(p => p.Id == 2).Match);
        Assert.Equal(expectedCommit, cluster[1].Status().HardState.Commit);
    }

    [Fact]
    public void AnEntryOfTheCurrentTermCommitsEverythingBeforeIt()
    {
        var cluster = new TestCluster(3, c => c with { PreVote = false });
        cluster.AddPeer(1, ReplicationTests.StateWithLog([1, 2], commit: 1, term: 2));
        cluster.AddPeer(2, ReplicationTests.StateWithLog([1], commit: 1, term: 2));
        cluster.AddPeer(3, ReplicationTests.StateWithLog([1], commit: 1, term: 2));
        cluster.Elect(1);
        Assert.Equal(3UL, cluster[1].Status().HardState.Commit); // the old entry and the no-op
        Assert.All(cluster.Peers.Values, p => Assert.Equal(3UL, p.AppliedIndex));
    }

    [Fact]
    public void NewLeaderAppendsANoOpOfItsTerm()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(2);
        var noop = Assert.Single(cluster.Peers[1].Applied);
        Assert.Equal(EntryType.Normal, noop.Type);
        Assert.True(noop.Data.IsEmpty);
        Assert.Equal(cluster[2].Status().HardState.Term, noop.Term);
    }

    [Theory]
    [InlineData(3, 1)] // a single follower plus the leader is a majority of 3
    [InlineData(5, 2)]
    [InlineData(5, 1)]
    [InlineData(4, 1)]
    public void CommitNeedsAMajorityOfVoters(int voters, int reachableFollowers)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        var reachable = Enumerable.Range(2, reachableFollowers).Select(i => (ulong)i).Append(1UL).ToArray();
        cluster.Partition(reachable);
        var before = cluster[1].Status().HardState.Commit;
        cluster.Propose(1, "x");
        var committed = cluster[1].Status().HardState.Commit > before;
        Assert.Equal(reachableFollowers + 1 > voters / 2, committed);
    }

    [Fact]
    public void LearnersDoNotCountTowardTheQuorum()
    {
        var cluster = new TestCluster(3, learners: 2);
        cluster.Elect(1);
        cluster.Partition(1, 4, 5);
        var before = cluster[1].Status().HardState.Commit;
        cluster.Propose(1, "x");
        Assert.Equal(before, cluster[1].Status().HardState.Commit);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[4].Status().LastIndex); // but they get the log
    }
}
