using System.Collections.Immutable;

namespace Bulwark.Consensus.Tests;

public sealed class ReplicationTests
{
    internal static RaftState StateWithLog(ulong[] terms, ulong commit = 0, ulong term = 0, params ulong[] voters)
    {
        voters = voters.Length == 0 ? [1, 2, 3] : voters;
        var lastTerm = Math.Max(term, terms.Length == 0 ? 0 : terms.Max());
        return new RaftState(new HardState(lastTerm, 0, commit), new SnapshotMetadata(0, 0, ClusterConfig.Of(voters)),
            RaftLogTests.Entries(1, terms), commit);
    }

    [Theory]
    // leader log terms, follower log terms, at most this many rejections before the follower matches
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 4, 4 }, new ulong[] { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 }, 2)]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 4, 4 }, new ulong[] { 1, 1, 1 }, 1)]
    [InlineData(new ulong[] { 1, 1, 1, 4, 4, 4, 4 }, new ulong[] { }, 1)]
    [InlineData(new ulong[] { 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5 }, new ulong[] { 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3 }, 2)]
    [InlineData(new ulong[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, new ulong[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2 }, 0)]
    public void RejectHintsSkipConflictingTermsQuickly(ulong[] leaderLog, ulong[] followerLog, int maxRejections)
    {
        var cluster = new TestCluster(3, c => c with { PreVote = false });
        // Every node has seen the highest term in any log (a real history), so the new leader's term is above all.
        var term = leaderLog.Concat(followerLog).Max();
        cluster.AddPeer(1, StateWithLog(leaderLog, term: term));
        cluster.AddPeer(2, StateWithLog(followerLog, term: term));
        cluster.AddPeer(3, StateWithLog(leaderLog, term: term));
        cluster.Filters.Add(m => m.From != 2 || m.Type != MessageType.VoteResponse); // 2 must not block; 3 votes
        cluster.Elect(1);
        var rejections = cluster.Delivered.Count(m => m.Type == MessageType.AppendResponse && m.From == 2 && m.Reject);
        Assert.InRange(rejections, 0, maxRejections);
        cluster.Propose(1, "x");
        Assert.Equal(cluster[1].Status().LastIndex, cluster[2].Status().LastIndex);
        Assert.Equal(cluster[1].Status().HardState.Commit, cluster[2].Status().HardState.Commit);
        Assert.Equal(["x"], cluster.AppliedData(2).TakeLast(1));
    }

    [Fact]
    public void DivergentUncommittedSuffixIsOverwrittenByTheLeader()
    {
        var cluster = new TestCluster(3, c => c with { PreVote = false });
        cluster.AddPeer(1, StateWithLog([1, 3, 3]));
        cluster.AddPeer(2, StateWithLog([1, 2, 2, 2, 2], commit: 1));
        cluster.AddPeer(3, StateWithLog([1, 3, 3]));
        cluster.Filters.Add(m => m.From != 2 || m.Type != MessageType.VoteResponse);
        cluster.Elect(1);
        var log2 = cluster.Peers[2].Log;
        Assert.Equal([1UL, 3, 3, 4], log2.Select(e => e.Term));
    }

    [Fact]
    public void ProbeBecomesReplicateOnceTheFollowerMatches()
    {
        var cluster = new TestCluster(3);
        cluster.Peers[3].Down = true;
        cluster.Elect(1);
        var progress = cluster[1].Status().Progress.ToDictionary(p => p.Id);
        Assert.Equal(ProgressState.Replicate, progress[2].State);
        Assert.Equal(ProgressState.Probe, progress[3].State);
        Assert.Equal(cluster[1].Status().LastIndex, progress[2].Match);
        cluster.Peers[3].Down = false;
        cluster.Tick(2);
        progress = cluster[1].Status().Progress.ToDictionary(p => p.Id);
        Assert.Equal(ProgressState.Replicate, progress[3].State);
        Assert.Equal(cluster[1].Status().LastIndex, progress[3].Match);
    }

    [Fact]
    public void ReadRoundsDoNotResendTheProbeToALaggingFollowerOnEveryHeartbeatResponse()
    {
        // A member back from a crash answers heartbeats at once but takes long to answer the leader's first (probe)
        // append: it is starting up and writing. Every linearizable read starts a heartbeat round, and a heartbeat
        // response used to re-open the paused probe, so under a read load the leader cut and sent a fresh append of up
        // to MaxMessageBytes to that member on every round (hundreds per second): its loop spent hundreds of ms copying
        // entries and everyone's writes stalled (the rejoin window of issue 15). A heartbeat response may re-open a
        // paused flow at most once per heartbeat interval, as with periodic heartbeats only.
        var cluster = new TestCluster(3);
        cluster.Isolate(3);
        cluster.Elect(1);
        for (var i = 0; i < 20; i++)
        {
            cluster.Propose(1, $"x{i}");
        }

        cluster.Heal();
        cluster.Filters.Add(m => !(m.From == 3 && m.Type == MessageType.AppendResponse));
        Assert.Equal(ProgressState.Probe, cluster[1].Status().Progress.Single(p => p.Id == 3).State);

        var before = cluster.Delivered.Count;
        const int rounds = 20;
        for (var i = 0; i < rounds; i++)
        {
            cluster[1].ReadIndex(System.Text.Encoding.UTF8.GetBytes($"r{i}"));
            cluster.Stabilize();
        }

        Assert.Equal(rounds, cluster.Peers[1].ReadStates.Count); // node 2's answers confirm every read
        var probes = cluster.Delivered.Skip(before).Count(m => m is { To: 3, Type: MessageType.Append, Entries.Length: > 0 });
        Assert.True(probes <= 1, $"{probes} appends with entries to the lagging follower in {rounds} read rounds within one heartbeat interval");

        // The periodic heartbeat still re-opens it: a lost probe is sent again.
        before = cluster.Delivered.Count;
        cluster.Tick(cluster.Peers[1].Config.HeartbeatTicks * 2);
        Assert.Contains(cluster.Delivered.Skip(before), m => m is { To: 3, Type: MessageType.Append, Entries.Length: > 0 });
    }

    [Theory]
    // max message bytes, entries proposed (100 bytes each incl. header), expected entry-carrying appends to node 2
    [InlineData(1 << 20, 10, 1)]
    [InlineData(250, 10, 5)]
    [InlineData(100, 10, 10)]
    [InlineData(1, 10, 10)] // at least one entry per message
    public void AppendsAreBatchedUpToTheByteLimit(int maxBytes, int count, int expectedMessages)
    {
        var cluster = new TestCluster(3, c => c with { MaxMessageBytes = maxBytes });
        cluster.Elect(1);
        cluster.Delivered.Clear();
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(ProposeStatus.Accepted, cluster[1].Propose(new byte[76]).Status);
        }

        cluster.Stabilize();
        var appends = cluster.Delivered.Where(m => m.Type == MessageType.Append && m.To == 2 && !m.Entries.IsEmpty).ToList();
        Assert.Equal(expectedMessages, appends.Count);
        Assert.All(appends, m => Assert.True(m.Entries.Length == 1 || m.Entries.Sum(e => e.Size) <= maxBytes));
        Assert.Equal(count, appends.Sum(m => m.Entries.Length));
        Assert.Equal(count, cluster.Peers[2].Applied.Count(e => !e.Data.IsEmpty));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void InflightAppendsAreBounded(int maxInflight)
    {
        var cluster = new TestCluster(3, c => c with { MaxInflightMessages = maxInflight, MaxMessageBytes = 1 });
        cluster.Elect(1);
        // Acknowledgements from 2 are lost: the leader may only have maxInflight appends out to it.
        cluster.Filters.Add(m => !(m.From == 2 && m.Type == MessageType.AppendResponse));
        cluster.Delivered.Clear();
        for (var i = 0; i < 10; i++)
        {
            cluster[1].Propose(new byte[10]);
        }

        cluster.Stabilize();
        Assert.Equal(maxInflight, cluster.Delivered.Count(m => m.Type == MessageType.Append && m.To == 2 && !m.Entries.IsEmpty));
        Assert.Equal(10, cluster.Delivered.Count(m => m.Type == MessageType.Append && m.To == 3 && !m.Entries.IsEmpty));

        // Once acknowledgements flow again, the rest follows.
        cluster.Heal();
        cluster.Tick(3);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[2].Status().LastIndex);
    }

    [Fact]
    public void LostAppendsAreRecoveredThroughHeartbeats()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var drop = true;
        cluster.Filters.Add(m => !(drop && m.To == 2 && m.Type == MessageType.Append));
        cluster.Propose(1, "a");
        cluster.Propose(1, "b");
        drop = false;
        Assert.Empty(cluster.AppliedData(2));
        cluster.Tick(3);
        Assert.Equal(["a", "b"], cluster.AppliedData(2));
    }

    [Fact]
    public void HeartbeatCommitIsCappedAtTheFollowersMatch()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Filters.Add(m => !(m.To == 3 && m.Type == MessageType.Append));
        cluster.Propose(1, "a");
        cluster.Tick(1);
        var heartbeats = cluster.Delivered.Where(m => m.Type == MessageType.Heartbeat).ToList();
        var match3 = cluster[1].Status().Progress.Single(p => p.Id == 3).Match;
        Assert.All(heartbeats.Where(h => h.To == 3), h => Assert.True(h.Commit <= match3));
        Assert.Contains(heartbeats, h => h.To == 2 && h.Commit == cluster[1].Status().HardState.Commit);
    }

    [Fact]
    public void LeaderSendsBeforePersistingButCountsItselfOnlyOnceDurable()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var before = cluster[1].Status().HardState.Commit;
        cluster[1].Propose("a"u8.ToArray());
        var ready = cluster[1].GetReady();
        var appends = ready.Messages.Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal(2, appends.Count); // sent before the leader's own write
        Assert.Single(ready.Entries);

        // Only node 2 acknowledges; the leader has not persisted: one of three copies is durable, no commit.
        cluster[2].Step(appends.Single(m => m.To == 2));
        foreach (var response in cluster.TakeOutput(2))
        {
            Assert.Equal(MessageType.AppendResponse, response.Type);
            cluster[1].Step(response);
        }

        Assert.Equal(before, cluster[1].Status().HardState.Commit);

        // The leader's write completes: now two of three copies are durable.
        cluster.Peers[1].Persist(ready);
        cluster[1].Advance(ready);
        Assert.Equal(before + 1, cluster[1].Status().HardState.Commit);
    }

    [Fact]
    public void FollowerAcknowledgesOnlyAfterPersisting()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[1].Propose("a"u8.ToArray());
        var ready = cluster[1].GetReady();
        cluster[1].Advance(ready);
        cluster[2].Step(ready.Messages.Single(m => m.To == 2 && m.Type == MessageType.Append));
        var followerReady = cluster[2].GetReady();
        Assert.Single(followerReady.Entries);
        Assert.DoesNotContain(followerReady.Messages, m => m.Type == MessageType.AppendResponse);
        Assert.Contains(followerReady.MessagesAfterPersist, m => m.Type == MessageType.AppendResponse);
        cluster[2].Advance(followerReady);
    }

    [Fact]
    public void ProposalsOnFollowersAreForwardedAndWithoutLeaderRefused()
    {
        var cluster = new TestCluster(3);
        Assert.Equal(ProposeStatus.NoLeader, cluster[2].Propose("x"u8.ToArray()).Status);
        cluster.Elect(1);
        var result = cluster.Propose(2, "y");
        Assert.Equal(ProposeStatus.Forwarded, result.Status);
        Assert.Equal(1UL, result.Leader);
        Assert.Equal(["y"], cluster.AppliedData(3));
    }

    [Fact]
    public void UncommittedBytesAreLimited()
    {
        var cluster = new TestCluster(3, c => c with { MaxUncommittedBytes = 100 });
        cluster.Elect(1);
        cluster.Isolate(1);
        Assert.Equal(ProposeStatus.Accepted, cluster[1].Propose(new byte[60]).Status);
        Assert.Equal(ProposeStatus.TooManyUncommitted, cluster[1].Propose(new byte[60]).Status);
        cluster.Heal();
        cluster.Tick(2);
        Assert.Equal(ProposeStatus.Accepted, cluster[1].Propose(new byte[60]).Status);
    }

    [Fact]
    public void CommittedEntriesAreHandedOutOnceInOrder()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        for (var i = 0; i < 20; i++)
        {
            cluster.Propose((ulong)(i % 5) + 1, $"v{i}");
        }

        cluster.Tick(3);
        foreach (var (id, peer) in cluster.Peers)
        {
            var indexes = peer.Applied.Select(e => e.Index).ToList();
            Assert.Equal(Enumerable.Range(1, indexes.Count).Select(i => (ulong)i), indexes);
            Assert.Equal(20, cluster.AppliedData(id).Count);
        }
    }
}
