namespace Bulwark.Consensus;

/// <summary>
/// Fast failover: the host's transport saw the connection to or from a peer close or be refused, which is what a
/// killed or crashed process looks like to its peers (the kernel closes its sockets at once). A follower that
/// loses its leader this way campaigns after a short, staggered delay instead of a full election timeout.
/// </summary>
/// <remarks>
/// Only timing changes: a campaign is the same pre-vote and vote as after a timeout, so safety (which never
/// depends on timers) is untouched. A false signal while the leader lives costs nothing but a rejected pre-vote:
/// the other followers still in the check-quorum lease, and the leader itself, ignore it, and the next heartbeat
/// makes this node follow the leader again.
/// </remarks>
public sealed partial class RaftNode
{
    /// <summary>
    /// True while the election timer is the short one set by <see cref="ReportConnectionLost"/>: hearing from a
    /// leader or granting a vote puts the normal randomized timeout back.
    /// </summary>
    private bool campaignSoonAfterLeaderLoss;

    /// <summary>
    /// Reports that the connection to or from <paramref name="peer"/> closed or was refused. If this node is a
    /// voting follower and <paramref name="peer"/> is its leader, it forgets the leader (so it no longer ignores
    /// pre-votes under the lease) and campaigns after 1 + 2·rank ticks, rank being its place by id among the
    /// other voters, so followers that see the loss in the same tick do not split the vote. Ignored otherwise.
    /// </summary>
    public void ReportConnectionLost(ulong peer)
    {
        // Learners never campaign and receive no vote requests: the lease they would drop protects nothing.
        if (role != Role.Follower || peer == 0 || lead != peer || !IsPromotable)
        {
            return;
        }

        var remaining = Math.Max(1, randomizedElectionTimeout - electionElapsed);
        lead = 0;
        electionElapsed = 0;
        randomizedElectionTimeout = Math.Min(remaining, LeaderLossCampaignDelay(peer));
        campaignSoonAfterLeaderLoss = true;
        AssertInvariants();
    }

    /// <summary>
    /// The lowest-id surviving voter tries first; each next one waits two ticks more, time for a pre-vote and
    /// a vote round trip, so with pre-vote on it finds the first one already a candidate and loses its pre-vote
    /// instead of splitting the real vote.
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

        return 1 + (2 * rank);
    }

    /// <summary>Someone leads or campaigns again: back to the normal randomized election timeout.</summary>
    private void EndEarlyCampaignTimer()
    {
        if (campaignSoonAfterLeaderLoss)
        {
            ResetTimers();
        }
    }
}
