namespace Bulwark.Consensus.Tests;

public sealed class ReadIndexTests
{
    private static byte[] Ctx(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public void LeaderAnswersAfterAHeartbeatQuorum()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        var commit = cluster[1].Status().HardState.Commit;
        Assert.Equal(ProposeStatus.Accepted, cluster[1].ReadIndex(Ctx("r1")).Status);
        var ready = cluster[1].GetReady();
        Assert.Empty(ready.ReadStates); // not before leadership is confirmed
        Assert.Equal(2, ready.Messages.Count(m => m.Type == MessageType.Heartbeat && !m.Context.IsEmpty));
        cluster[1].Advance(ready);
        cluster.Send(ready.Messages);
        cluster.Stabilize();
        var read = Assert.Single(cluster.Peers[1].ReadStates);
        Assert.Equal(commit, read.Index);
        Assert.Equal("r1"u8.ToArray(), read.Context.ToArray());
    }

    [Theory]
    [InlineData(3, new ulong[] { 2 }, true)]
    [InlineData(3, new ulong[] { }, false)]
    [InlineData(5, new ulong[] { 2 }, false)]
    [InlineData(5, new ulong[] { 2, 5 }, true)]
    public void ReadNeedsAcknowledgementsFromAMajority(int voters, ulong[] answering, bool answered)
    {
        var cluster = new TestCluster(voters);
        cluster.Elect(1);
        cluster.Filters.Add(m => m.Type != MessageType.HeartbeatResponse || answering.Contains(m.From));
        cluster[1].ReadIndex(Ctx("r"));
        cluster.Stabilize();
        Assert.Equal(answered, cluster.Peers[1].ReadStates.Count == 1);
    }

    [Fact]
    public void ManyReadsAreConfirmedByOneRound()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Filters.Add(m => m.Type != MessageType.HeartbeatResponse);
        for (var i = 0; i < 5; i++)
        {
            cluster[1].ReadIndex(Ctx($"r{i}"));
        }

        cluster.Stabilize();
        Assert.Empty(cluster.Peers[1].ReadStates);
        cluster.Heal();
        cluster.Tick(1);
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"],
            cluster.Peers[1].ReadStates.Select(r => System.Text.Encoding.UTF8.GetString(r.Context.Span)));
    }

    [Fact]
    public void ReadsBetweenTwoReadiesShareOneHeartbeatRound()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        for (var i = 0; i < 10; i++)
        {
            cluster[1].ReadIndex(Ctx($"r{i}"));
        }

        var ready = cluster[1].GetReady();
        Assert.Equal(2, ready.Messages.Count(m => m.Type == MessageType.Heartbeat));
        cluster[1].Advance(ready);
        cluster.Send(ready.Messages);
        cluster.Stabilize();
        Assert.Equal(10, cluster.Peers[1].ReadStates.Count);
    }

    [Fact]
    public void FollowerForwardsAndGetsTheLeadersReadIndex()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        var result = cluster[2].ReadIndex(Ctx("f"));
        Assert.Equal(ProposeStatus.Forwarded, result.Status);
        Assert.Equal(1UL, result.Leader);
        cluster.Stabilize();
        var read = Assert.Single(cluster.Peers[2].ReadStates);
        Assert.Equal(cluster[1].Status().HardState.Commit, read.Index);
        Assert.Equal("f"u8.ToArray(), read.Context.ToArray());
        Assert.Empty(cluster.Peers[1].ReadStates);
    }

    [Fact]
    public void NoLeaderMeansNoRead()
    {
        var cluster = new TestCluster(3);
        Assert.Equal(ProposeStatus.NoLeader, cluster[1].ReadIndex(Ctx("x")).Status);
    }

    [Fact]
    public void SingleVoterAnswersAtOnce()
    {
        var cluster = new TestCluster(1);
        cluster.Elect(1);
        cluster[1].ReadIndex(Ctx("x"));
        var ready = cluster[1].GetReady();
        Assert.Single(ready.ReadStates);
        cluster[1].Advance(ready);
    }

    [Fact]
    public void NewLeaderWaitsUntilAnEntryOfItsTermCommits()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "a");
        // Node 2 wins an election but its no-op cannot commit yet (appends are lost).
        cluster.Filters.Add(m => m.Type != MessageType.Append);
        cluster[1].TransferLeadership(2);
        cluster.Stabilize();
        Assert.Equal(Role.Leader, cluster[2].Status().SoftState.Role);
        cluster[2].ReadIndex(Ctx("early"));
        cluster.Tick(2);
        Assert.Empty(cluster.Peers[2].ReadStates);
        cluster.Heal();
        cluster.Tick(2);
        var read = Assert.Single(cluster.Peers[2].ReadStates);
        // The read index covers the new term's no-op: every write acknowledged by an earlier leader is included.
        var noop = cluster.Peers[2].Applied.Last(e => e.Term == cluster[2].Status().HardState.Term);
        Assert.True(read.Index >= noop.Index);
    }

    [Fact]
    public void IsolatedLeaderNeverAnswers()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Isolate(1);
        cluster[1].ReadIndex(Ctx("stale"));
        cluster.Tick(30);
        Assert.Empty(cluster.Peers[1].ReadStates);
    }

    [Fact]
    public void TestFaultAnswersWithoutConfirmingLeadership()
    {
        var cluster = new TestCluster(3, c => c with { TestFaults = new RaftTestFaults { ReadIndexWithoutQuorumCheck = true } });
        cluster.Elect(1);
        cluster.Isolate(1);
        cluster[1].ReadIndex(Ctx("stale"));
        cluster.Stabilize();
        Assert.Single(cluster.Peers[1].ReadStates);
    }

    [Fact]
    public void PendingReadsAreDroppedWhenLeadershipIsLost()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Filters.Add(m => m.Type != MessageType.HeartbeatResponse);
        cluster[1].ReadIndex(Ctx("lost"));
        cluster.Stabilize();
        cluster.Heal();
        cluster.Isolate(1);
        cluster.Tick(30);
        cluster.Heal();
        cluster.Tick(5);
        Assert.NotEqual(Role.Leader, cluster[1].Status().SoftState.Role);
        Assert.Empty(cluster.Peers[1].ReadStates);
    }
}
