namespace Bulwark.Consensus.Tests;

public sealed class SnapshotTests
{
    private static TestCluster ClusterWithCompactedLeader(int proposals, out ulong compactedAt)
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[3].Down = true;
        for (var i = 0; i < proposals; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        compactedAt = cluster.Peers[1].AppliedIndex;
        cluster[1].Compact(compactedAt);
        return cluster;
    }

    [Fact]
    public void LeaderSendsSnapshotMetadataWithoutData()
    {
        var cluster = ClusterWithCompactedLeader(5, out var at);
        cluster.Peers[3].Down = false;
        cluster.Tick(2);
        var snapshot = cluster.Delivered.Single(m => m.Type == MessageType.Snapshot).Snapshot!;
        Assert.Equal(at, snapshot.Metadata.Index);
        Assert.Equal(cluster[1].Status().HardState.Term, snapshot.Metadata.Term);
        Assert.Equal(ClusterConfig.Of(1, 2, 3), snapshot.Metadata.Config);
        Assert.True(snapshot.Data.IsEmpty);
    }

    [Fact]
    public void FollowerInstallsTheSnapshotThenAcknowledgesAfterPersist()
    {
        var cluster = new TestCluster(3);
        var metadata = new SnapshotMetadata(10, 2, ClusterConfig.Of(1, 2, 3));
        cluster[2].Step(new Message
        {
            Type = MessageType.Snapshot, From = 1, To = 2, Term = 2, Snapshot = new Snapshot(metadata, new byte[] { 42 }),
        });
        var ready = cluster[2].GetReady();
        Assert.Equal(metadata, ready.Snapshot!.Metadata);
        Assert.Equal(new byte[] { 42 }, ready.Snapshot.Data.ToArray());
        Assert.Empty(ready.CommittedEntries);
        Assert.Empty(ready.Messages);
        var ack = Assert.Single(ready.MessagesAfterPersist);
        Assert.Equal((MessageType.AppendResponse, 10UL, false), (ack.Type, ack.Index, ack.Reject));
        Assert.Equal(10UL, ready.HardState!.Value.Commit);
        cluster[2].Advance(ready);

        var status = cluster[2].Status();
        Assert.Equal(11UL, status.FirstIndex);
        Assert.Equal(10UL, status.LastIndex);
        Assert.Equal(10UL, status.Applied);
    }

    [Theory]
    // follower log terms, follower commit, snapshot index, snapshot term, expect installed, expect commit after
    [InlineData(new ulong[] { 1, 1, 1 }, 3UL, 2UL, 1UL, false, 3UL)]  // older than our commit: ignored
    [InlineData(new ulong[] { 1, 1, 1, 1 }, 1UL, 3UL, 1UL, false, 3UL)] // we hold its last entry: fast-forward commit
    [InlineData(new ulong[] { 1, 1, 1, 1 }, 1UL, 3UL, 2UL, true, 3UL)]  // conflicting entry: replace the log
    [InlineData(new ulong[] { 1 }, 1UL, 8UL, 2UL, true, 8UL)]
    public void SnapshotIsInstalledOnlyWhenItAddsSomething(
        ulong[] log, ulong commit, ulong index, ulong snapTerm, bool installed, ulong commitAfter)
    {
        var cluster = new TestCluster(3);
        cluster.AddPeer(2, ReplicationTests.StateWithLog(log, commit: commit, term: 2));
        cluster[2].Step(new Message
        {
            Type = MessageType.Snapshot, From = 1, To = 2, Term = 2,
            Snapshot = new Snapshot(new SnapshotMetadata(index, snapTerm, ClusterConfig.Of(1, 2, 3)), default),
        });
        var ready = cluster[2].GetReady();
        Assert.Equal(installed, ready.Snapshot is not null);
        Assert.Equal(commitAfter, cluster[2].Status().HardState.Commit);
        Assert.Equal(commitAfter, ready.MessagesAfterPersist.Single().Index);
        cluster[2].Advance(ready);
    }

    [Fact]
    public void LaggingFollowerCatchesUpThroughSnapshotThenEntries()
    {
        var cluster = ClusterWithCompactedLeader(8, out var at);
        cluster.Propose(1, "after compaction");
        cluster.Peers[3].Down = false;
        cluster.Tick(3);
        Assert.Equal(at, cluster.Peers[3].Snapshot!.Index);
        Assert.Equal(["after compaction"], cluster.AppliedData(3));
        var progress = cluster[1].Status().Progress.Single(p => p.Id == 3);
        Assert.Equal(ProgressState.Replicate, progress.State);
        Assert.Equal(cluster[1].Status().LastIndex, progress.Match);
    }

    [Fact]
    public void ASnapshotStillBeingStreamedIsNotSentAgain()
    {
        // Issue 15: the transport streams a large snapshot for longer than an election timeout while the follower
        // keeps answering heartbeats. The leader must wait for the transport's report, not send a second copy.
        var cluster = ClusterWithCompactedLeader(5, out var at);
        cluster.Peers[3].Down = false;
        var streaming = new List<Message>();
        cluster.Filters.Add(m =>
        {
            if (m.Type != MessageType.Snapshot)
            {
                return true;
            }

            streaming.Add(m);
            return false;
        });
        cluster.Tick(50); // five election timeouts of streaming, heartbeats answered all along
        Assert.Single(streaming);
        Assert.Equal(ProgressState.Snapshot, cluster[1].Status().Progress.Single(p => p.Id == 3).State);

        // The last byte arrives: the follower installs it, the transport reports the send done, the follower acks.
        cluster[1].ReportSnapshotSent(3);
        cluster.Heal();
        cluster.Send(streaming);
        cluster.Tick(30);
        Assert.Single(streaming);
        Assert.Equal(at, cluster.Peers[3].Snapshot!.Index);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[3].Status().LastIndex);
        Assert.Equal(ProgressState.Replicate, cluster[1].Status().Progress.Single(p => p.Id == 3).State);
    }

    [Fact]
    public void ASnapshotSentInFullButNeverAcknowledgedIsSentAgain()
    {
        // The follower refused the snapshot it received (or its answer was lost): after the transport reported the
        // send done, two election timeouts without an acknowledgement mean probing (and so a new snapshot) again.
        var cluster = ClusterWithCompactedLeader(5, out _);
        cluster.Peers[3].Down = false;
        var dropped = 0;
        cluster.Filters.Add(m => m.Type != MessageType.Snapshot || dropped++ > 0);
        cluster.Tick(2);
        Assert.Equal(ProgressState.Snapshot, cluster[1].Status().Progress.Single(p => p.Id == 3).State);
        cluster[1].ReportSnapshotSent(3);
        cluster.Tick(25); // two election timeouts without an answer, heartbeats answered: probe and resend
        Assert.Equal(2, dropped);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[3].Status().LastIndex);
    }

    [Fact]
    public void ASnapshotTheTransportNeverReportsOnIsSentAgainAfterTheSendTimeout()
    {
        // The host's last resort against a transport that neither finishes nor fails a send: SnapshotSendTimeoutTicks.
        var cluster = ClusterWithCompactedLeader(5, out _);
        cluster.Peers[3].Down = false;
        var dropped = 0;
        cluster.Filters.Add(m => m.Type != MessageType.Snapshot || dropped++ > 0);
        cluster.Tick(2);
        var timeout = cluster.Peers[1].Config.EffectiveSnapshotSendTimeoutTicks;
        cluster.Tick(timeout - 10);
        Assert.Equal(1, dropped);
        cluster.Tick(20);
        Assert.Equal(2, dropped);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[3].Status().LastIndex);
    }

    [Fact]
    public void TheDefaultSnapshotSendTimeoutScalesWithTheElectionTimeout()
    {
        // A long election timeout (e.g. 10 s at 10 ms ticks) must not make the default last resort invalid: a node
        // configured so once refused to start ("snapshot send timeout ticks must exceed election ticks").
        var slow = new RaftConfig { Id = 1, ElectionTicks = 1000 };
        slow.Validate();
        Assert.Equal(60_000, slow.EffectiveSnapshotSendTimeoutTicks);
        Assert.Equal(600, new RaftConfig { Id = 1 }.EffectiveSnapshotSendTimeoutTicks);
        Assert.Equal(50, new RaftConfig { Id = 1, SnapshotSendTimeoutTicks = 50 }.EffectiveSnapshotSendTimeoutTicks);
        Assert.Throws<ArgumentException>(() => new RaftConfig { Id = 1, SnapshotSendTimeoutTicks = 10 }.Validate());
        Assert.Throws<ArgumentException>(() => new RaftConfig { Id = 1, SnapshotSendTimeoutTicks = -1 }.Validate());
    }

    [Fact]
    public void ReportSnapshotFailureProbesAgain()
    {
        var cluster = ClusterWithCompactedLeader(5, out _);
        cluster.Peers[3].Down = false;
        cluster.Filters.Add(m => m.Type != MessageType.Snapshot);
        cluster.Tick(2);
        Assert.Equal(ProgressState.Snapshot, cluster[1].Status().Progress.Single(p => p.Id == 3).State);
        cluster[1].ReportSnapshotFailure(3);
        Assert.Equal(ProgressState.Probe, cluster[1].Status().Progress.Single(p => p.Id == 3).State);
        cluster.Heal();
        cluster.Tick(2);
        Assert.Equal(cluster[1].Status().LastIndex, cluster[3].Status().LastIndex);
    }

    [Fact]
    public void ReportUnreachableDropsReplicationToProbe()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        Assert.Equal(ProgressState.Replicate, cluster[1].Status().Progress.Single(p => p.Id == 2).State);
        cluster[1].ReportUnreachable(2);
        Assert.Equal(ProgressState.Probe, cluster[1].Status().Progress.Single(p => p.Id == 2).State);
    }

    [Fact]
    public void CompactionIsBoundedByTheAppliedIndex()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        var applied = cluster[1].Status().Applied;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].Compact(applied + 1));
        Assert.Contains("applied", ex.Message);
        cluster[1].Compact(applied);
        cluster[1].Compact(applied - 1); // older than the snapshot: nothing to do
        Assert.Equal(applied + 1, cluster[1].Status().FirstIndex);
    }

    [Fact]
    public void AKeptTailLetsAFollowerJustBehindTheSnapshotCatchUpFromTheLog()
    {
        var (cluster, followerLast, at) = LeaderSixEntriesAheadOfADownFollower();
        cluster[1].Compact(at, keepEntries: at - followerLast);
        Assert.Equal(followerLast + 1, cluster[1].Status().FirstIndex);

        cluster.Peers[3].Down = false;
        cluster.Tick(2);
        Assert.DoesNotContain(cluster.Delivered, m => m.Type == MessageType.Snapshot);
        Assert.Equal(cluster.AppliedData(1), cluster.AppliedData(3));
    }

    [Fact]
    public void AFollowerBehindTheKeptTailGetsTheNewestSnapshotNotTheCompactionPoint()
    {
        var (cluster, followerLast, at) = LeaderSixEntriesAheadOfADownFollower();
        cluster[1].Compact(at, keepEntries: at - followerLast - 1);
        Assert.Equal(followerLast + 2, cluster[1].Status().FirstIndex);

        cluster.Peers[3].Down = false;
        cluster.Tick(2);
        // The host holds a snapshot file only at the index it reported, never at the compaction point below it.
        var snapshot = cluster.Delivered.Single(m => m.Type == MessageType.Snapshot).Snapshot!;
        Assert.Equal(at, snapshot.Metadata.Index);
        Assert.Equal(cluster[1].Status().HardState.Term, snapshot.Metadata.Term);
        Assert.Equal(ClusterConfig.Of(1, 2, 3), snapshot.Metadata.Config);
    }

    /// <summary>Node 1 leads and applied six entries node 3 (down) has not: the index node 3 ends at, and node 1's applied index.</summary>
    private static (TestCluster Cluster, ulong FollowerLast, ulong LeaderApplied) LeaderSixEntriesAheadOfADownFollower()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[3].Down = true;
        var followerLast = cluster[3].Status().LastIndex;
        for (var i = 0; i < 6; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        return (cluster, followerLast, cluster.Peers[1].AppliedIndex);
    }

    [Fact]
    public void AnOlderSnapshotThanTheNewestKnownChangesNothing()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        for (var i = 0; i < 6; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        var applied = cluster[1].Status().Applied;
        cluster[1].Compact(applied, keepEntries: 3);
        cluster[1].Compact(applied - 1, keepEntries: 0); // older than the newest snapshot: its tail stays
        Assert.Equal(applied - 2, cluster[1].Status().FirstIndex);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => cluster[1].Compact(applied + 1, keepEntries: 5));
        Assert.Contains("applied", ex.Message);
    }

    [Fact]
    public void NodeRestartsFromSnapshotAndLogSuffix()
    {
        var cluster = ClusterWithCompactedLeader(4, out var at);
        cluster.Propose(1, "tail");
        cluster.Peers[1].Snapshot = new SnapshotMetadata(at, cluster[1].Status().HardState.Term, ClusterConfig.Of(1, 2, 3));
        cluster.Peers[1].Log.RemoveAll(e => e.Index <= at);
        cluster.Restart(1);
        Assert.Equal(at + 1, cluster[1].Status().FirstIndex);
        cluster.Peers[3].Down = false;
        cluster.Tick(60);
        var leader = cluster.Leader()!.Value;
        cluster.Propose(leader, "later");
        Assert.All(cluster.Peers.Keys, id => Assert.Equal("later", cluster.AppliedData(id).Last()));
    }
}

public sealed class QueuedSnapshotTests
{
    [Fact]
    public void CompactionRepointsQueuedSnapshotMessages()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Peers[3].Down = true;
        for (var i = 0; i < 4; i++)
        {
            cluster.Propose(1, $"v{i}");
        }

        cluster[1].Compact(3);
        cluster.Peers[3].Down = false;
        cluster[1].Tick(); // heartbeat; 3 answers; probing walks back until the leader queues a snapshot
        for (var round = 0; round < 10 && cluster[1].Status().Progress.Single(p => p.Id == 3).State != ProgressState.Snapshot; round++)
        {
            foreach (var toFollower in cluster.TakeOutput(1).Where(m => m.To == 3))
            {
                cluster[3].Step(toFollower);
            }

            foreach (var response in cluster.TakeOutput(3))
            {
                cluster[1].Step(response);
            }
        }

        Assert.Equal(ProgressState.Snapshot, cluster[1].Status().Progress.Single(p => p.Id == 3).State);

        // The host compacts further before collecting the Ready: the queued message must name the new point.
        var applied = cluster[1].Status().Applied;
        cluster[1].Compact(applied);
        var ready = cluster[1].GetReady();
        var snapshot = Assert.Single(ready.Messages, m => m.Type == MessageType.Snapshot);
        Assert.Equal(applied, snapshot.Snapshot!.Metadata.Index);
        cluster[1].Advance(ready);
    }
}
