namespace Bulwark.Consensus;

/// <summary>
/// Fast failover: the host's transport saw the connection to or from a peer close or be refused, which is what a
/// killed or crashed process looks like to its peers (the kernel closes its sockets at once). A follower told
/// this about its leader waits only for the leader's next heartbeat: if none comes, it gives up the leader and
/// campaigns after a short, staggered delay instead of a full election timeout.
/// </summary>
/// <remarks>
/// Only timing changes: a campaign is the same pre-vote and vote as after a timeout, so safety (which never
/// depends on timers) is untouched. A report is not believed on its own: a reset connection to a live leader
/// looks the same. Until the leader has also missed a heartbeat the follower keeps its leader and its
/// check-quorum lease, so a false report cannot help a follower that is cut off from the leader depose it.
/// </remarks>
public sealed partial class RaftNode
{
    /// <summary>
    /// Vote requests the lease dropped since the leader's last message, at most one per voter: if the leader is
    /// given up (a confirmed report or a suspicion) they are handled then, as if delivered late, so a follower whose
    /// own confirmation came a moment after the first campaigner's pre-vote still answers it (otherwise that
    /// campaigner waits a full timeout).
    /// </summary>
    private readonly List<Message> voteRequestsHeldForLeaderLoss = [];

    /// <summary>The leader a connection-loss report named, while this follower waits for its next heartbeat (0 = none).</summary>
    private ulong reportedLostLeader;

    /// <summary>This node's ticks since that report, none of which brought a message from the leader.</summary>
    private int ticksSinceLeaderLossReport;

    /// <summary>
    /// True while the election timer is the short one set when a reported loss was confirmed: hearing from a
    /// leader or granting a vote puts the normal randomized timeout back.
    /// </summary>
    private bool campaignSoonAfterLeaderLoss;

    /// <summary>True while this node pre-campaigns because that short timer fired (see HandleVoteRequest's step-back).</summary>
    private bool preCampaignAfterLeaderLoss;

    /// <summary>
    /// Reports that the connection to or from <paramref name="peer"/> closed or was refused. If this node is a
    /// voting follower and <paramref name="peer"/> is its leader, it starts waiting for the leader's next
    /// heartbeat (<see cref="RaftConfig.HeartbeatTicks"/> + 1 ticks). If none arrives, it forgets the leader (so
    /// it no longer ignores pre-votes under the lease) and campaigns 2·rank ticks later, rank being its place by
    /// id among the other voters, so followers that confirm the loss in the same tick do not split the vote. Any
    /// message from the leader in the meantime cancels the report. Ignored otherwise.
    /// </summary>
    public void ReportConnectionLost(ulong peer)
    {
        // Learners never campaign and receive no vote requests: the lease they would drop protects nothing.
        // A repeated report (every refused redial reports) does not restart the wait.
        if (role != Role.Follower || peer == 0 || lead != peer || !IsPromotable || reportedLostLeader == peer)
        {
            return;
        }

        reportedLostLeader = peer;
        ticksSinceLeaderLossReport = 0;
        AssertInvariants();
    }

    /// <summary>
    /// Ticks without a message from the leader that confirm a report: the leader heartbeats every
    /// <see cref="RaftConfig.HeartbeatTicks"/> of its ticks, and one tick more covers the report falling anywhere
    /// within one of ours and the heartbeat's delivery.
    /// </summary>
    private int LeaderLossConfirmationTicks => config.HeartbeatTicks + 1;

    /// <summary>
    /// One tick of a follower waiting on a report (before the election timer is checked): once the leader has
    /// stayed silent for <see cref="LeaderLossConfirmationTicks"/>, it is given up and the short timer set.
    /// </summary>
    private void TickLeaderLossReport()
    {
        if (reportedLostLeader == 0)
        {
            return;
        }

        if (role != Role.Follower || lead != reportedLostLeader || !IsPromotable)
        {
            // The report is about a leader this node no longer follows (every path that changes lead or role
            // should already have dropped it): nothing left to confirm.
            CancelLeaderLossReport();
            return;
        }

        if (++ticksSinceLeaderLossReport < LeaderLossConfirmationTicks)
        {
            return;
        }

        GiveUpLeader(reportedLostLeader);
    }

    /// <summary>
    /// Reports that the host's failure detector suspects <paramref name="peer"/>: its messages stopped arriving well
    /// beyond their usual gaps (the host learns those; see docs/consensus.md, "Gray failures"). A paused or cut-off
    /// leader closes no connection, so this is how its followers learn of it before an election timeout. If this
    /// node is a voting follower and <paramref name="peer"/> is its leader, it gives the leader up at once (the host
    /// already waited out the missed heartbeats that a connection-loss report waits for) and campaigns 2·rank ticks
    /// later, as after a confirmed connection loss. Ignored otherwise.
    /// </summary>
    /// <remarks>
    /// Only timing changes, as with <see cref="ReportConnectionLost"/>: the campaign is an ordinary pre-vote, which
    /// the other voters refuse while they still hear the leader (their check-quorum lease). So a follower cut off
    /// alone, or one whose detector fired on a late heartbeat, cannot depose a leader the others still hear; it
    /// takes the leader back with the leader's next message. Only when a quorum has lost the leader does one win.
    /// </remarks>
    public void ReportLeaderSuspected(ulong peer)
    {
        if (role != Role.Follower || peer == 0 || lead != peer || !IsPromotable)
        {
            return;
        }

        GiveUpLeader(peer);
        AssertInvariants();
    }

    /// <summary>
    /// The leader is taken to be gone (a confirmed connection loss or a suspicion): forget it, so vote requests are
    /// no longer dropped under its lease, set the short staggered campaign timer, and answer the vote requests held
    /// while a report was unconfirmed.
    /// </summary>
    private void GiveUpLeader(ulong lost)
    {
        var held = voteRequestsHeldForLeaderLoss.ToArray();
        CancelLeaderLossReport();
        var remaining = Math.Max(0, randomizedElectionTimeout - electionElapsed);
        lead = 0;
        electionElapsed = 0;
        // Rank 0 gets 0: the election timer check right after this campaigns in this very tick.
        randomizedElectionTimeout = Math.Min(remaining, LeaderLossCampaignDelay(lost));
        campaignSoonAfterLeaderLoss = true;
        foreach (var request in held)
        {
            // Out of the lease now: granting an earlier campaigner's request also ends our own short timer.
            Step(request);
        }
    }

    /// <summary>
    /// Keeps a vote request the lease is about to drop, the newest one per voter (so the list stays as small as the
    /// configuration), until the leader's next message clears them: if this follower gives the leader up first (a
    /// confirmed connection-loss report or a suspicion), it answers them then, as if delivered late. Followers of a
    /// paused leader notice it a moment apart; without this, the first one's pre-vote would be dropped by the others'
    /// lease and the election would wait for the last one's own staggered campaign.
    /// </summary>
    private void HoldVoteRequestUnderLease(Message m)
    {
        if (lead == 0 || !log.Config.Voters.Contains(m.From))
        {
            return;
        }

        voteRequestsHeldForLeaderLoss.RemoveAll(held => held.From == m.From);
        voteRequestsHeldForLeaderLoss.Add(m);
    }

    /// <summary>
    /// The confirmed leader loss: the lowest-id surviving voter campaigns at once; each next one waits two ticks
    /// more, time for a pre-vote and a vote round trip, so with pre-vote on it finds the first one already a
    /// candidate and loses its pre-vote instead of splitting the real vote.
    /// </summary>
    private int LeaderLossCampaignDelay(ulong lostLeader)
    {
        var rank = 0;
        foreach (var voter in log.Config.Voters)
        {
            if (voter != lostLeader && voter < Id)
            {
                rank++;
            }
        }

        return 2 * rank;
    }

    /// <summary>No report is pending any more (the leader spoke, or the node moved on); held requests go with it.</summary>
    private void CancelLeaderLossReport()
    {
        reportedLostLeader = 0;
        ticksSinceLeaderLossReport = 0;
        voteRequestsHeldForLeaderLoss.Clear();
    }

    /// <summary>
    /// Someone leads or campaigns with our vote: a pending report is answered (or moot), and a short timer goes
    /// back to the normal randomized election timeout.
    /// </summary>
    private void EndEarlyCampaignTimer()
    {
        CancelLeaderLossReport();
        if (campaignSoonAfterLeaderLoss)
        {
            ResetTimers();
        }
    }
}
