namespace Bulwark.Consensus;

/// <summary>Message dispatch: the term rules every message passes first, then the role-specific handling.</summary>
public sealed partial class RaftNode
{
    /// <summary>Feeds a message from a peer. Stale or malformed messages are ignored; a broken invariant throws <see cref="RaftInvariantException"/>.</summary>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Id || message.From == 0 || message.From == Id)
        {
            return;
        }

        if (!StepTerm(message))
        {
            return;
        }

        switch (message.Type)
        {
            case MessageType.PreVote or MessageType.Vote:
                HandleVoteRequest(message);
                break;
            case MessageType.NoProgressReport:
                HandleNoProgressReport(message);
                break;
            default:
                if (StepFromDeposedLeader(message))
                {
                    break;
                }

                switch (role)
                {
                    case Role.Leader:
                        StepLeader(message);
                        break;
                    case Role.PreCandidate or Role.Candidate:
                        StepCandidate(message);
                        break;
                    default:
                        StepFollower(message);
                        break;
                }

                break;
        }

        AssertInvariants();
    }

    /// <summary>Applies the term rules (§5.1, with pre-vote and the check-quorum lease); false to drop the message.</summary>
    private bool StepTerm(Message m)
    {
        // A no-progress report is about the leader of its term: another term's is meaningless here, and it must never
        // move this node's term (it is no campaign).
        if (m.Type == MessageType.NoProgressReport)
        {
            return m.Term != 0 && m.Term == term;
        }

        // Forwarded proposals and read requests carry no term (as in etcd): they are not bound to one.
        if (m.Term == 0)
        {
            return m.Type is MessageType.Propose or MessageType.ReadIndex;
        }

        if (m.Term > term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote)
            {
                var forced = IsTransferCampaign(m.Context);
                // A quorum of voters reporting the leader alive but not committing waives its lease (NoProgress.cs).
                var inLease = config.CheckQuorum && lead != 0 && electionElapsed < config.ElectionTicks && !LeaseWaivedForNoProgress;
                if (!forced && inLease)
                {
                    // We heard from a live leader within the election timeout: this candidate would only disrupt it.
                    HoldVoteRequestUnderLease(m);
                    return false;
                }
            }

            switch (m.Type)
            {
                case MessageType.PreVote:
                    // A pre-vote never changes our term.
                    break;
                case MessageType.PreVoteResponse when !m.Reject:
                    // A granted pre-vote carries the term we would campaign in; the term changes only when we do.
                    break;
                case MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot:
                    BecomeFollower(m.Term, m.From);
                    break;
                case MessageType.Vote:
                    // Adopt the term but keep our election timer running: only granting the vote (or hearing a
                    // leader) restarts it, as in the paper's Figure 2. Restarting it on every request we reject lets a
                    // candidate with a stale log and a fast clock keep the electable nodes from ever timing out
                    // (simulator seed 10790, pre-vote off).
                    BecomeFollowerKeepingElectionTimer(m.Term);
                    break;
                default:
                    BecomeFollower(m.Term, 0);
                    break;
            }

            return true;
        }

        if (m.Term < term)
        {
            if (m.Type is MessageType.Append or MessageType.Heartbeat)
            {
                // Raft's "reply false with currentTerm", always: the stale leader learns our term and steps down.
                // etcd answers only with CheckQuorum or PreVote on, counting on our own vote requests to spread the
                // term otherwise; but a node that missed membership changes sends its votes only to its stale
                // member list and would never reach this leader (simulator seed 110510: stuck forever).
                Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = term });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, From = Id, To = m.From, Term = term, Reject = true });
            }
            else if (m.Type == MessageType.Vote)
            {
                // Also Raft's "reply false with currentTerm": the candidate learns our term and campaigns above it next.
                // etcd ignores a stale vote request, counting on the higher-term nodes to campaign themselves; but the
                // node holding the highest term may be one that cannot (a leader that removed itself) or whose votes go
                // to a stale member list, and the electable candidates would never learn it (simulator seed 5016160,
                // pre-vote off: no leader for good after the leader removed itself).
                Send(new Message { Type = MessageType.VoteResponse, From = Id, To = m.From, Term = term, Reject = true });
            }

            return false;
        }

        return true;
    }

    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.AppendResponse:
                HandleAppendResponse(m);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(m);
                break;
            case MessageType.Propose:
                HandleForwardedProposal(m);
                break;
            case MessageType.ReadIndex:
                HandleReadRequest(m.From, m.Context);
                break;
            case MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot:
                throw new RaftInvariantException(
                    $"two leaders in term {term}: node {Id:x} leads and received {m.Type} from node {m.From:x}");
        }
    }

    private void StepCandidate(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case MessageType.PreVoteResponse when role == Role.PreCandidate:
            case MessageType.VoteResponse when role == Role.Candidate:
                HandleVoteResponse(m);
                break;
        }
    }

    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                HeardFromLeader(m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                HeardFromLeader(m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                HeardFromLeader(m.From);
                HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                StartCampaign(CampaignKind.Transfer);
                break;
            case MessageType.ReadIndexResponse:
                readStates.Add(new ReadState(m.Index, m.Context));
                break;
            case MessageType.Propose when lead != 0 && lead != m.From:
                Send(m with { From = Id, To = lead });
                break;
        }
    }

    private void HeardFromLeader(ulong from)
    {
        if (lead != 0 && lead != from)
        {
            throw new RaftInvariantException($"two leaders in term {term}: node {Id:x} follows {lead:x} and heard from {from:x}");
        }

        EndEarlyCampaignTimer();
        electionElapsed = 0;
        lead = from;
    }

    /// <summary>
    /// Queues an outgoing message. Messages that promise nothing about our durable state may leave before the
    /// host persists; every response (acknowledgement, vote) waits for the sync (Ready.MessagesAfterPersist).
    /// </summary>
    private void Send(Message m)
    {
        var early = m.Type switch
        {
            // The leader's own messages depend only on its term (and vote) being durable, never on its entries.
            MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot or MessageType.TimeoutNow =>
                term == durableTerm && vote == durableVote,
            MessageType.Propose or MessageType.ReadIndex or MessageType.PreVote or MessageType.NoProgressReport => true,
            _ => faults.AcknowledgeBeforePersist,
        };
        (early ? messages : messagesAfterPersist).Add(m);
    }
}
