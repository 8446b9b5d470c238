using System.Buffers.Binary;

namespace Bulwark.Consensus.Tests;

/// <summary>
/// "Alive but not committing" (RaftNode.NoProgress.cs): followers that keep hearing a leader which does not move the
/// commit index while they hold entries past it report it to the other voters, and a quorum of reports starts one
/// pre-vote campaign. The stuck leader is modelled by losing every AppendResponse on its way to it: its heartbeats and
/// their answers flow (so neither check-quorum nor the election timer fires), its entries reach the followers, but it
/// never learns they are stored and never commits.
/// </summary>
public sealed class NoProgressReportTests
{
    private const int StallTicks = 20;

    /// <summary>Tenure (3 election timeouts of 10 ticks) + the stall + a few ticks for the reports and the campaign.</summary>
    private const int ReplacementBound = 30 + StallTicks + 15;

    private static TestCluster Cluster(int voters, int noProgressTicks = StallTicks) =>
        new(voters, c => c with { NoProgressTicks = noProgressTicks });

    private static bool AcknowledgementTo(Message m, ulong leader) => m.To == leader && m.Type == MessageType.AppendResponse;

    private static ulong Term(TestCluster cluster, ulong id) => cluster[id].Status().HardState.Term;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void ALeaderThatHeartbeatsButNeverCommitsIsReplacedInOneCampaign(int voters)
    {
        var cluster = Cluster(voters);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        var commit = cluster[1].Status().HardState.Commit;
        cluster.Filters.Add(m => !AcknowledgementTo(m, 1));
        cluster.Delivered.Clear();
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(1, "stuck").Status);

        var ticks = 0;
        while (cluster.Leader() is 1 && ticks < ReplacementBound)
        {
            cluster.Tick();
            ticks++;
            if (cluster.Leader() is 1)
            {
                Assert.Equal(commit, cluster[1].Status().HardState.Commit); // it really does not commit
            }

            if (ticks < 30)
            {
                // Minimum tenure: nobody reports a leader in its first three election timeouts.
                Assert.All(cluster.Peers.Values, p => Assert.Equal(0, p.Node.NoProgressReportsSent));
            }
        }

        var leader = cluster.Leader();
        Assert.NotNull(leader);
        Assert.NotEqual(1UL, leader);
        Assert.True(ticks < ReplacementBound, $"took {ticks} ticks");
        // One campaign: the term moved by exactly one and only one node ever asked for real votes.
        Assert.Equal(term + 1, Term(cluster, leader.Value));
        Assert.Single(cluster.Delivered.Where(m => m.Type == MessageType.Vote).Select(m => m.From).Distinct());
        Assert.Equal(1, cluster.Peers.Values.Sum(p => p.Node.NoProgressCampaigns > 0 && p.Node.Status().SoftState.Role == Role.Leader ? 1 : 0));

        // The new leader commits, the stuck entry included (it is in every follower's log).
        cluster.Tick(3);
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(leader.Value, "after").Status);
        cluster.Tick(3);
        Assert.Contains("stuck", cluster.AppliedData(leader.Value));
        Assert.Contains("after", cluster.AppliedData(leader.Value));
    }

    /// <summary>
    /// Simulator seeds 70018/70019: followers of one stuck leader are stuck at <i>different</i> commit indexes, because the
    /// leader tells each the commit index only up to what it last heard that follower hold (heartbeats carry
    /// min(match, commit)) and an acknowledgement or commit update to one of them was lost before the wedge. Follower 2
    /// (stuck one index lower) counts 3's report and its own, deposes the leader and campaigns; 3 used to drop 2's report
    /// as "about an older commit index" (taken for progress since), so it never held a quorum, kept the leader's lease
    /// and dropped 2's pre-vote, for good. A lower report now counts once it was received a whole stall window after the
    /// receiver's own commit index last moved: both have then seen no progress over the same window.
    /// </summary>
    [Fact]
    public void FollowersStuckAtDifferentCommitIndexesStillReplaceTheLeader()
    {
        var cluster = Cluster(3);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        FreezeCommitSeenBy(cluster, 2);
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(1, "committed, but 2 is never told").Status);
        cluster.Tick(3);
        var commit = cluster[1].Status().HardState.Commit;
        Assert.Equal(commit, cluster[3].Status().HardState.Commit);
        Assert.True(cluster[2].Status().HardState.Commit < commit, "2 must lag 3's commit index: the test would prove nothing");

        cluster.Filters.Add(m => !AcknowledgementTo(m, 1));
        Assert.Equal(ProposeStatus.Accepted, cluster.Propose(1, "stuck").Status);
        var ticks = 0;
        while (cluster.Leader() is 1 && ticks < ReplacementBound)
        {
            cluster.Tick();
            ticks++;
        }

        Assert.True(cluster[2].NoProgressReportsSent > 0 && cluster[3].NoProgressReportsSent > 0, "both followers must report");
        Assert.True(cluster[2].NoProgressCampaigns > 0, "2 (a quorum with 3's higher report) must campaign");
        var leader = cluster.Leader();
        Assert.True(leader is not null && leader != 1, $"the stuck leader was not replaced in {ticks} ticks");
        Assert.Equal(term + 1, Term(cluster, leader.Value));
    }

    [Fact]
    public void WithTheFeatureOffTheStuckLeaderStays()
    {
        // The gap this closes: heartbeats keep check-quorum and every follower's lease happy.
        var cluster = Cluster(3, noProgressTicks: 0);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        cluster.Filters.Add(m => !AcknowledgementTo(m, 1));
        cluster.Propose(1, "stuck");
        cluster.Tick(500);
        Assert.Equal(1UL, cluster.Leader());
        Assert.Equal(term, Term(cluster, 2));
    }

    [Fact]
    public void OneFollowerAloneCannotDeposeTheLeader()
    {
        // The leader commits with follower 3, but what follower 2 is told of the commit index stays frozen: 2 holds
        // entries past a commit index that never moves and reports, over and over. 3 sees progress.
        var cluster = Cluster(3);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        FreezeCommitSeenBy(cluster, 2);
        for (var i = 0; i < 100; i++)
        {
            cluster.Propose(1, $"v{i}");
            cluster.Tick(5);
        }

        Assert.True(cluster[2].NoProgressReportsSent > 0, "follower 2 never reported: the test would prove nothing");
        // At most one report per election timeout (10 ticks) once stalled.
        Assert.True(cluster[2].NoProgressReportsSent <= 500 / 10, $"{cluster[2].NoProgressReportsSent} reports");
        Assert.Equal(0, cluster[3].NoProgressReportsSent);
        Assert.Equal(1UL, cluster.Leader());
        Assert.All(cluster.Peers.Keys, id => Assert.Equal(term, Term(cluster, id)));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(0, p.Node.NoProgressCampaigns));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void AnIdleLeaderIsNeverReported(int voters)
    {
        var cluster = Cluster(voters);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        cluster.Propose(1, "one write, then nothing");
        cluster.Tick(5000);
        Assert.Equal(1UL, cluster.Leader());
        Assert.All(cluster.Peers.Keys, id => Assert.Equal(term, Term(cluster, id)));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(0, p.Node.NoProgressReportsSent));
    }

    [Fact]
    public void ASlowButProgressingLeaderIsNeverReported()
    {
        // Work is always pending (a proposal every tick) and the leader commits only every 8th tick: slow, but the
        // commit index moves well within the 20-tick stall window.
        var cluster = Cluster(3);
        cluster.Elect(1);
        var term = Term(cluster, 1);
        var tick = 0;
        cluster.Filters.Add(m => !AcknowledgementTo(m, 1) || tick % 8 == 0);
        ulong lastCommit = 0;
        var commitMoves = 0;
        for (tick = 1; tick <= 2000; tick++)
        {
            cluster[1].Propose("w"u8.ToArray());
            cluster.Tick();
            var commit = cluster[1].Status().HardState.Commit;
            commitMoves += commit > lastCommit ? 1 : 0;
            lastCommit = commit;
        }

        Assert.InRange(commitMoves, 200, 260); // it did commit, every 8 ticks or so
        Assert.Equal(1UL, cluster.Leader());
        Assert.All(cluster.Peers.Keys, id => Assert.Equal(term, Term(cluster, id)));
        Assert.All(cluster.Peers.Values, p => Assert.Equal(0, p.Node.NoProgressReportsSent));
    }

    /// <summary>What <paramref name="follower"/> is told of the commit index stays where it is now.</summary>
    private static void FreezeCommitSeenBy(TestCluster cluster, ulong follower)
    {
        var frozen = cluster[follower].Status().HardState.Commit;
        cluster.Transforms.Add(m => m.To == follower && m.Type is MessageType.Append or MessageType.Heartbeat
            ? m with { Commit = Math.Min(m.Commit, frozen) }
            : m);
    }

    /// <summary>
    /// Follower 2 alone is stalled (it is never told the commit index moved), and a report from follower 3 is forged: of the
    /// current term it makes a quorum and 2 campaigns (the control); of an older or a newer term it is ignored, and a
    /// newer one does not move 2's term either.
    /// </summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(-1, false)]
    [InlineData(5, false)]
    public void OnlyReportsOfTheCurrentTermCount(int termOffset, bool deposes)
    {
        // Without pre-vote a lost campaign moves the term, which gives an older term to report about.
        var cluster = new TestCluster(3, c => c with { NoProgressTicks = StallTicks, PreVote = false });
        cluster.Filters.Add(_ => false);
        cluster[1].Campaign();
        cluster.Stabilize();
        cluster.Heal();
        cluster.Elect(1);
        var term = Term(cluster, 1);
        Assert.Equal(2UL, term);
        FreezeCommitSeenBy(cluster, 2);
        // 3's reports never reach 2, so only the forged one can.
        cluster.Filters.Add(m => !(m.Type == MessageType.NoProgressReport && m.From == 3));
        for (var i = 0; i < 12 && cluster[2].NoProgressReportsSent == 0; i++)
        {
            cluster.Propose(1, $"v{i}");
            cluster.Tick(5);
        }

        Assert.True(cluster[2].NoProgressReportsSent > 0);
        var leaderBytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(leaderBytes, 1);
        var forged = new Message
        {
            Type = MessageType.NoProgressReport, From = 3, To = 2, Term = (ulong)((long)term + termOffset),
            Index = cluster[2].Status().HardState.Commit, Context = leaderBytes,
        };
        cluster[2].Step(forged); // past the filter that drops 3's own reports
        cluster.Stabilize();
        cluster.Tick(3);

        Assert.Equal(deposes ? 1 : 0, cluster[2].NoProgressCampaigns);
        if (deposes)
        {
            Assert.Equal(term + 1, Term(cluster, 2));
        }
        else
        {
            Assert.Equal(1UL, cluster.Leader());
            Assert.All(cluster.Peers.Keys, id => Assert.Equal(term, Term(cluster, id)));
        }
    }

    [Fact]
    public void LearnersNeitherReportNorCount()
    {
        // 3 voters and 2 learners, and every acknowledgement to the leader lost: the learners stall too, but only the
        // two voting followers report; their quorum (2 of 3 voters) replaces the leader.
        var cluster = new TestCluster(3, c => c with { NoProgressTicks = StallTicks }, learners: 2);
        cluster.Elect(1);
        cluster.Filters.Add(m => !AcknowledgementTo(m, 1));
        cluster.Propose(1, "stuck");
        cluster.Tick(ReplacementBound);
        Assert.Equal(0, cluster[4].NoProgressReportsSent);
        Assert.Equal(0, cluster[5].NoProgressReportsSent);
        Assert.NotEqual(1UL, cluster.Leader());
    }
}
