using Bulwark.Consensus.Membership;

namespace Bulwark.Consensus;

/// <summary>
/// Single-server membership changes (dissertation ch. 4): one change at a time, in force on every node as soon
/// as its entry is in that node's log, reverted if that entry is truncated. See docs/consensus.md for why.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>Proposes one membership change (one at a time; see docs/consensus.md).</summary>
    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        switch (role)
        {
            case Role.Leader:
                var result = ProposeConfigChangeAsLeader(change);
                AssertInvariants();
                return result;
            case Role.Follower when lead != 0:
                // The leader validates when it receives it; a forwarded change that makes no sense is dropped.
                Send(new Message
                {
                    Type = MessageType.Propose, From = Id, To = lead,
                    Entries = [new Entry(0, 0, EntryType.ConfigChange, change.Encode())],
                });
                return new ProposeResult(ProposeStatus.Forwarded, Leader: lead);
            default:
                return new ProposeResult(ProposeStatus.NoLeader, Term: term);
        }
    }

    private ProposeResult ProposeConfigChangeAsLeader(ConfigChange change)
    {
        if (leadTransferee != 0)
        {
            return new ProposeResult(ProposeStatus.TransferInProgress, Term: term, Leader: Id);
        }

        // One change at a time, and only once an entry of this term committed: a new leader may hold an
        // uncommitted change of an earlier term that could still be overwritten.
        if (pendingConfigIndex > log.Committed || !CommittedInCurrentTerm)
        {
            return new ProposeResult(ProposeStatus.ConfigChangeInProgress, Term: term, Leader: Id);
        }

        if (MembershipRules.Validate(log.Config, change) is not null)
        {
            return new ProposeResult(ProposeStatus.InvalidConfigChange, Term: term, Leader: Id);
        }

        var index = AppendAsLeader(EntryType.ConfigChange, change.Encode());
        pendingConfigIndex = index;
        return new ProposeResult(ProposeStatus.Accepted, index, term, Id);
    }

    /// <summary>Why <paramref name="change"/> would be refused against the current configuration (null if valid).</summary>
    public string? ExplainConfigChange(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return MembershipRules.Validate(log.Config, change);
    }

    /// <summary>The log changed (append, truncation, snapshot): bring the tracker to the configuration now in force.</summary>
    private void OnConfigMaybeChanged()
    {
        var current = log.Config;
        if (ReferenceEquals(current, tracker.Config))
        {
            return;
        }

        tracker.SetConfig(current, log.ConfigAt(log.Committed), log.LastIndex);
        if (role != Role.Leader)
        {
            return;
        }

        if (leadTransferee != 0 && !current.Voters.Contains(leadTransferee))
        {
            leadTransferee = 0;
        }

        // The quorum changed: commits and reads may now be decided by fewer (or other) voters.
        MaybeCommit();
        ReleaseConfirmedReads();
        MaybeStepDownAfterRemoval();
    }

    /// <summary>A leader that removed itself keeps leading until the change commits, then steps down.</summary>
    private void MaybeStepDownAfterRemoval()
    {
        // Members dropped by a change that is now committed stop receiving the log.
        if (role == Role.Leader && tracker.Members.Count > log.Config.Voters.Count + log.Config.Learners.Count &&
            log.Committed >= log.ConfigIndex)
        {
            tracker.SetConfig(log.Config, log.Config, log.LastIndex);
        }

        if (role == Role.Leader && !log.Config.Voters.Contains(Id) && log.Committed >= log.ConfigIndex)
        {
            BecomeFollower(term, 0);
        }
    }
}
