using Bulwark.Consensus.Quorum;

namespace Bulwark.Consensus;

/// <summary>Leader election: timers, pre-vote, votes, and the role transitions.</summary>
public sealed partial class RaftNode
{
    /// <summary>Marks the vote requests of a campaign forced by TimeoutNow, which bypass the check-quorum lease.</summary>
    private readonly byte[] transferCampaignContext;

    private enum CampaignKind : byte
    {
        PreElection = 0,
        Election = 1,
        Transfer = 2,
    }

    private bool IsTransferCampaign(ReadOnlyMemory<byte> context) =>
        context.Length == transferCampaignContext.Length && context.Span.SequenceEqual(transferCampaignContext);

    private void TickElection()
    {
        electionElapsed++;
        TickLeaderLossReport();
        if (IsPromotable && electionElapsed >= randomizedElectionTimeout)
        {
            electionElapsed = 0;
            var early = campaignSoonAfterLeaderLoss;
            StartCampaign(config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
            preCampaignAfterLeaderLoss = early && role == Role.PreCandidate;
        }
    }

    private void StartCampaign(CampaignKind kind)
    {
        // Learners and removed nodes never campaign: they cannot win and would only disturb the voters.
        if (!IsPromotable)
        {
            return;
        }

        ulong voteTerm;
        MessageType type;
        if (kind == CampaignKind.PreElection)
        {
            BecomePreCandidate();
            voteTerm = term + 1;
            type = MessageType.PreVote;
        }
        else
        {
            BecomeCandidate();
            voteTerm = term;
            type = MessageType.Vote;
        }

        tracker.RecordVote(Id, true);
        if (tracker.TallyVotes() == VoteResult.Won)
        {
            // A single-voter cluster wins at once.
            if (kind == CampaignKind.PreElection)
            {
                StartCampaign(CampaignKind.Election);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        var context = kind == CampaignKind.Transfer ? transferCampaignContext : ReadOnlyMemory<byte>.Empty;
        var lastIndex = log.LastIndex;
        var lastTerm = log.LastTerm;
        foreach (var voter in log.Config.Voters)
        {
            if (voter != Id)
            {
                Send(new Message
                {
                    Type = type, From = Id, To = voter, Term = voteTerm, Index = lastIndex, LogTerm = lastTerm,
                    Context = context,
                });
            }
        }
    }

    private void HandleVoteRequest(Message m)
    {
        var isPreVote = m.Type == MessageType.PreVote;
        var responseType = isPreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;

        // We may vote again for whom we already voted; vote anew only if we have no vote and know no leader in
        // this term; pre-vote for a future term is always open.
        var canVote = vote == m.From || (vote == 0 && lead == 0) || (isPreVote && m.Term > term);
        var upToDate = faults.GrantVoteIgnoringLogFreshness || log.IsUpToDate(m.Index, m.LogTerm);
        if (canVote && upToDate)
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = m.Term });
            // Another voter campaigns with our (pre-)vote: our own early campaign after a leader loss would only
            // compete with it and split the vote (both pass pre-vote, each votes for itself).
            EndEarlyCampaignTimer();
            if (isPreVote && role == Role.PreCandidate && preCampaignAfterLeaderLoss && m.From < Id)
            {
                // Two followers gave the lost leader up a moment apart, so their staggered timers fired in the same
                // tick and each pre-campaigns with the other's pre-vote: both would then split the real vote. The
                // one ranked later (higher id) steps back, as it would have had its timer fired after the grant.
                BecomeFollower(term, 0);
            }

            if (!isPreVote)
            {
                electionElapsed = 0;
                vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, From = Id, To = m.From, Term = term, Reject = true });
        }
    }

    private void HandleVoteResponse(Message m)
    {
        tracker.RecordVote(m.From, !m.Reject);
        switch (tracker.TallyVotes())
        {
            case VoteResult.Won when role == Role.PreCandidate:
                StartCampaign(CampaignKind.Election);
                break;
            case VoteResult.Won:
                BecomeLeader();
                break;
            case VoteResult.Lost:
                BecomeFollower(term, 0);
                break;
        }
    }

    private void BecomeFollower(ulong newTerm, ulong leader)
    {
        Reset(newTerm);
        lead = leader;
        role = Role.Follower;
    }

    private void BecomeFollowerKeepingElectionTimer(ulong newTerm)
    {
        var elapsed = electionElapsed;
        var timeout = randomizedElectionTimeout;
        // The timer kept may be the short one after a leader loss: it stays marked so, so that granting this vote
        // (or hearing the new leader) still ends it instead of leaving a short timer that would compete.
        var shortTimer = campaignSoonAfterLeaderLoss;
        BecomeFollower(newTerm, 0);
        electionElapsed = elapsed;
        randomizedElectionTimeout = timeout;
        campaignSoonAfterLeaderLoss = shortTimer;
    }

    private void BecomePreCandidate()
    {
        if (role == Role.Leader)
        {
            throw new RaftInvariantException($"node {Id:x} cannot go from leader to pre-candidate");
        }

        // Pre-vote changes neither term nor vote: a node that cannot win leaves no trace.
        preCampaignAfterLeaderLoss = false;
        leadTransferee = 0;
        tracker.ResetVotes();
        ResetReads();
        ResetTimers();
        lead = 0;
        role = Role.PreCandidate;
    }

    private void BecomeCandidate()
    {
        if (role == Role.Leader)
        {
            throw new RaftInvariantException($"node {Id:x} cannot go from leader to candidate");
        }

        Reset(term + 1);
        vote = Id;
        role = Role.Candidate;
    }

    private void BecomeLeader()
    {
        if (role != Role.Candidate)
        {
            throw new RaftInvariantException($"node {Id:x} became leader from {role}, not from candidate");
        }

        Reset(term);
        lead = Id;
        role = Role.Leader;
        tracker.ResetAll(log.ConfigAt(log.Committed), log.LastIndex);
        // No configuration change until an entry of this term commits (Ongaro's fix for single-server changes).
        pendingConfigIndex = log.LastIndex;
        // The no-op: committing it commits everything before it and opens reads and configuration changes.
        // (The Figure 8 test fault leaves it out: otherwise it rides in the same Append as the earlier-term
        // entries, their acknowledgements arrive together, and the faulty commit could never be told apart.)
        if (!faults.CommitPreviousTermEntriesByCount)
        {
            AppendAsLeader(EntryType.Normal, ReadOnlyMemory<byte>.Empty);
        }
        else
        {
            broadcastPending = true;
        }
    }

    /// <summary>Common to every role change: new term (clears the vote), fresh timers, nothing in progress.</summary>
    private void Reset(ulong newTerm)
    {
        if (newTerm < term)
        {
            throw new RaftInvariantException($"term would go back from {term} to {newTerm}");
        }

        if (newTerm != term)
        {
            term = newTerm;
            vote = 0;
        }

        lead = 0;
        ResetTimers();
        preCampaignAfterLeaderLoss = false;
        leadTransferee = 0;
        uncommittedBytes = 0;
        broadcastPending = false;
        tracker.ResetVotes();
        ResetReads();
    }
}
