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

    /// <summary>
    /// The whole Figure 8 story on five nodes: e (term 1) reaches S1, S2; f (term 2) only S5; S1 leads term 3 and
    /// gets e onto S3. Counting replicas commits e and S1 applies it; then S5, whose last term is higher, is
    /// elected by S2, S3, S4 and overwrites e. With the correct rule e commits only together with S1's no-op of
    /// term 3, which then also keeps S5 from winning.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Figure8CommittedEntryIsLostOnlyWithTheFault(bool faulty)
    {
        var cluster = new TestCluster(5, c => c with
        {
            PreVote = false, CheckQuorum = false,
            TestFaults = new RaftTestFaults { CommitPreviousTermEntriesByCount = faulty },
        });
        cluster.Elect(1);
        cluster.Propose(1, "base");

        cluster.Partition(1, 2);
        cluster.Propose(1, "e");
        cluster.Heal();
        cluster.Peers[1].Down = true;

        cluster.Partition(3, 4, 5);
        cluster.Filters.Add(m => !(m.From == 5 && m.Type == MessageType.Append)); // S5's entries stay with S5
        cluster.Elect(5);
        cluster.Heal();
        cluster.Isolate(5);
        cluster.Propose(5, "f");
        cluster.Heal();
        cluster.Peers[5].Down = true;

        // S1 restarts; it reaches only S2 and S3, and its commit index never leaves it.
        cluster.Peers[1].Down = false;
        cluster.Restart(1);
        cluster.Partition(1, 2, 3);
        var commitBefore = cluster[1].Status().HardState.Commit;
        cluster.Filters.Add(m => m.From != 1 || m.Commit <= commitBefore);
        for (var i = 0; i < 5 && cluster.Leader() != 1; i++)
        {
            cluster[1].Campaign();
            cluster.Stabilize();
        }

        Assert.Equal(1UL, cluster.Leader());
        // S1 applies e either way: with the fault by counting e's replicas, correctly because its term-3 no-op
        // reached the same majority and committed e with it.
        Assert.Contains("e", cluster.AppliedData(1));

        // S1 crashes; S5 returns and campaigns.
        cluster.Peers[1].Down = true;
        cluster.Heal();
        cluster.Peers[5].Down = false;
        cluster.Restart(5);
        for (var i = 0; i < 5 && cluster.Leader() != 5; i++)
        {
            cluster[5].Campaign();
            cluster.Stabilize();
        }

        Assert.Equal(faulty, cluster.Leader() == 5);
        if (faulty)
        {
            cluster.Propose(5, "g");
            // State machine safety is broken: S1 applied e at index 2, the others apply f there.
            Assert.Equal("e", TestCluster.Text(cluster.Peers[1].Applied.Single(e => e.Index == 2)));
            Assert.Equal("f", TestCluster.Text(cluster.Peers[2].Applied.Single(e => e.Index == 2)));
        }
        else
        {
            Assert.DoesNotContain("f", cluster.Peers.Keys.SelectMany(cluster.AppliedData));
        }
    }
}
