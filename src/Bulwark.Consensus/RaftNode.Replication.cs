using Bulwark.Consensus.Tracking;

namespace Bulwark.Consensus;

/// <summary>Log replication: proposals, AppendEntries both ways, heartbeats, snapshots, and the commit rule.</summary>
public sealed partial class RaftNode
{
    /// <summary>Proposals or a commit advance since the last Ready: followers get one batched Append round.</summary>
    private bool broadcastPending;

    private ProposeResult ProposeEntry(EntryType type, ReadOnlyMemory<byte> data)
    {
        switch (role)
        {
            case Role.Leader:
                if (leadTransferee != 0)
                {
                    return new ProposeResult(ProposeStatus.TransferInProgress, Term: term, Leader: Id);
                }

                if (config.MaxUncommittedBytes > 0 && uncommittedBytes > 0 &&
                    uncommittedBytes + data.Length > config.MaxUncommittedBytes)
                {
                    return new ProposeResult(ProposeStatus.TooManyUncommitted, Term: term, Leader: Id);
                }

                var index = AppendAsLeader(type, data);
                AssertInvariants();
                return new ProposeResult(ProposeStatus.Accepted, index, term, Id);
            case Role.Follower when lead != 0:
                if (type == EntryType.Normal)
                {
                    NoteForwardedProposal();
                }

                Send(new Message
                {
                    Type = MessageType.Propose, From = Id, To = lead, Entries = [new Entry(0, 0, type, data)],
                });
                return new ProposeResult(ProposeStatus.Forwarded, Leader: lead);
            default:
                return new ProposeResult(ProposeStatus.NoLeader, Term: term);
        }
    }

    /// <summary>Appends one entry of this leader's term; followers get it with the next Ready's Append round.</summary>
    private ulong AppendAsLeader(EntryType type, ReadOnlyMemory<byte> data)
    {
        var entry = new Entry(term, log.LastIndex + 1, type, data);
        log.Append(new ReadOnlySpan<Entry>(in entry));
        if (config.MaxUncommittedBytes > 0)
        {
            uncommittedBytes += data.Length;
        }

        broadcastPending = true;
        if (type == EntryType.ConfigChange)
        {
            OnConfigMaybeChanged();
        }

        return entry.Index;
    }

    private void HandleForwardedProposal(Message m)
    {
        foreach (var entry in m.Entries)
        {
            if (entry.Type == EntryType.ConfigChange)
            {
                ConfigChange change;
                try
                {
                    change = ConfigChange.Decode(entry.Data.Span);
                }
                catch (FormatException)
                {
                    continue;
                }

                ProposeConfigChangeAsLeader(change);
            }
            else
            {
                ProposeEntry(EntryType.Normal, entry.Data);
            }
        }
    }

    private void TickLeader()
    {
        heartbeatElapsed++;
        electionElapsed++;
        TickSnapshotSends();
        if (electionElapsed >= config.ElectionTicks)
        {
            electionElapsed = 0;
            if (config.CheckQuorum && !tracker.QuorumActive(Id))
            {
                BecomeFollower(term, 0);
                return;
            }

            foreach (var member in tracker.Members)
            {
                // A snapshot the transport delivered but that is not acknowledged for a whole election timeout was
                // refused (or its answer was lost): probe again, which resends it if it is still needed. One still
                // being streamed is the transport's to finish or fail (ReportSnapshotSent, ReportSnapshotFailure).
                if (member is { State: ProgressState.Snapshot, SnapshotDelivered: true } && member.SnapshotRounds++ > 0)
                {
                    member.BecomeProbe();
                }

                if (config.CheckQuorum)
                {
                    member.RecentActive = member.Id == Id;
                }
            }

            // A transfer that did not finish within an election timeout is abandoned; proposals resume.
            leadTransferee = 0;
        }

        if (heartbeatElapsed >= config.HeartbeatTicks)
        {
            heartbeatElapsed = 0;
            readRoundPending = false;
            foreach (var member in tracker.Members)
            {
                member.HeartbeatMayUnpause = true;
            }

            BroadcastHeartbeat();
        }

        AssertInvariants();
    }

    /// <summary>
    /// The last resort for a snapshot the transport neither finished nor failed within
    /// <see cref="RaftConfig.SnapshotSendTimeoutTicks"/>: probe again (and so send a fresh one if still needed).
    /// </summary>
    private void TickSnapshotSends()
    {
        foreach (var member in tracker.Members)
        {
            if (member is { State: ProgressState.Snapshot, SnapshotDelivered: false } &&
                ++member.SnapshotTicks >= config.EffectiveSnapshotSendTimeoutTicks)
            {
                member.BecomeProbe();
            }
        }
    }

    private void FlushBroadcast()
    {
        if (broadcastPending && role == Role.Leader)
        {
            BroadcastAppend();
        }

        if (readRoundPending && role == Role.Leader)
        {
            BroadcastHeartbeat();
        }

        broadcastPending = false;
        readRoundPending = false;
    }

    private void BroadcastAppend()
    {
        foreach (var member in tracker.Members)
        {
            if (member.Id == Id)
            {
                continue;
            }

            SendAppend(member, sendIfEmpty: true);
            // Fill the pipeline: in Replicate state send every pending batch up to the in-flight limit.
            while (member.State == ProgressState.Replicate && SendAppend(member, sendIfEmpty: false))
            {
            }
        }
    }

    /// <summary>Sends the next Append (or a snapshot if the entries are compacted); false if nothing was sent.</summary>
    private bool SendAppend(Progress progress, bool sendIfEmpty)
    {
        if (progress.IsPaused)
        {
            return false;
        }

        var prevIndex = progress.Next - 1;
        if (!log.TryTerm(prevIndex, out var prevTerm))
        {
            return SendSnapshot(progress);
        }

        var entries = progress.Next <= log.LastIndex
            ? log.Slice(progress.Next, log.LastIndex, config.MaxMessageBytes)
            : [];
        if (entries.IsEmpty && !sendIfEmpty)
        {
            return false;
        }

        if (faults.CommitPreviousTermEntriesByCount)
        {
            entries = SingleTermPrefix(entries);
        }

        progress.SentEntries(entries.IsEmpty ? prevIndex : entries[^1].Index, entries.Length);
        Send(new Message
        {
            Type = MessageType.Append, From = Id, To = progress.Id, Term = term, Index = prevIndex, LogTerm = prevTerm,
            Entries = entries, Commit = log.Committed,
        });
        return true;
    }

    /// <summary>
    /// Figure 8 test fault only: earlier-term entries travel without the new term's, as in the paper's scenario,
    /// so their (faulty) commit by counting is not masked by a simultaneous correct commit.
    /// </summary>
    private static System.Collections.Immutable.ImmutableArray<Entry> SingleTermPrefix(
        System.Collections.Immutable.ImmutableArray<Entry> entries)
    {
        var count = 1;
        while (count < entries.Length && entries[count].Term == entries[0].Term)
        {
            count++;
        }

        return count >= entries.Length ? entries : entries[..count];
    }

    private bool SendSnapshot(Progress progress)
    {
        // Only to a follower we heard from lately: a snapshot is large and a dead node would waste it.
        if (!progress.RecentActive)
        {
            return false;
        }

        var metadata = SnapshotToSend;
        progress.BecomeSnapshot(metadata.Index);
        Send(new Message
        {
            Type = MessageType.Snapshot, From = Id, To = progress.Id, Term = term,
            Snapshot = new Snapshot(metadata, ReadOnlyMemory<byte>.Empty),
        });
        return true;
    }

    private void BroadcastHeartbeat()
    {
        var context = PendingReadContext();
        foreach (var member in tracker.Members)
        {
            if (member.Id != Id)
            {
                // Never tell a follower to commit beyond what we know it has (it may lag or have a stale suffix).
                Send(new Message
                {
                    Type = MessageType.Heartbeat, From = Id, To = member.Id, Term = term,
                    Commit = Math.Min(member.Match, log.Committed), Context = context,
                });
            }
        }
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < log.Committed)
        {
            // Everything up to our commit index matches the leader's log: tell it where we are.
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = term, Index = log.Committed });
            return;
        }

        if (log.MaybeAppend(m.Index, m.LogTerm, m.Commit, m.Entries) is { } lastNew)
        {
            OnConfigMaybeChanged();
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = term, Index = lastNew });
            return;
        }

        // Reject with a hint: the last index at or below the leader's probe whose term is at most the leader's
        // term there, so the leader can skip a whole conflicting term per round trip.
        var (hintIndex, hintTerm) = log.FindConflictByTerm(Math.Min(m.Index, log.LastIndex), m.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse, From = Id, To = m.From, Term = term, Index = m.Index, Reject = true,
            RejectHint = hintIndex, LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        log.CommitTo(m.Commit);
        Send(new Message { Type = MessageType.HeartbeatResponse, From = Id, To = m.From, Term = term, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        if (m.Snapshot is not { } snapshot)
        {
            return;
        }

        var meta = snapshot.Metadata;
        if (meta.Index > log.Committed)
        {
            if (log.MatchTerm(meta.Index, meta.Term))
            {
                // We already hold the snapshot's last entry: just fast-forward the commit index.
                log.CommitTo(meta.Index);
            }
            else
            {
                log.Restore(snapshot);
                OnConfigMaybeChanged();
            }
        }

        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = m.From, Term = term, Index = log.Committed });
    }

    private void HandleAppendResponse(Message m)
    {
        var progress = tracker.Get(m.From);
        if (progress is null)
        {
            return;
        }

        progress.RecentActive = true;
        if (m.Reject)
        {
            var probeAt = m.RejectHint;
            if (m.LogTerm > 0)
            {
                probeAt = log.FindConflictByTerm(m.RejectHint, m.LogTerm).Index;
            }

            if (progress.MaybeDecreaseTo(m.Index, probeAt))
            {
                if (progress.State == ProgressState.Replicate)
                {
                    progress.BecomeProbe();
                }

                SendAppend(progress, sendIfEmpty: true);
            }

            return;
        }

        if (!progress.MaybeUpdate(m.Index) &&
            !(progress.Match == m.Index && progress.State is ProgressState.Probe or ProgressState.Snapshot))
        {
            return;
        }

        switch (progress.State)
        {
            case ProgressState.Probe:
                progress.BecomeReplicate();
                break;
            case ProgressState.Snapshot when progress.Match + 1 >= log.FirstIndex:
                progress.BecomeProbe();
                progress.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                progress.Inflights.FreeLE(m.Index);
                break;
        }

        MaybeCommit();
        if (role != Role.Leader)
        {
            return;
        }

        while (SendAppend(progress, sendIfEmpty: false))
        {
        }

        if (m.From == leadTransferee && progress.Match == log.LastIndex)
        {
            SendTimeoutNow(m.From);
        }
    }

    private void HandleHeartbeatResponse(Message m)
    {
        var progress = tracker.Get(m.From);
        if (progress is null)
        {
            return;
        }

        progress.RecentActive = true;
        if (progress.HeartbeatMayUnpause)
        {
            // At most once per heartbeat interval (see Progress.HeartbeatMayUnpause), however many read rounds answer.
            progress.HeartbeatMayUnpause = false;
            progress.ProbeSent = false;
            if (progress.State == ProgressState.Replicate && progress.Inflights.Full)
            {
                progress.Inflights.FreeFirstOne();
            }
        }

        if (progress.Match < log.LastIndex)
        {
            SendAppend(progress, sendIfEmpty: true);
        }

        if (!m.Context.IsEmpty)
        {
            AcknowledgeRead(progress, m.Context);
        }
    }

    /// <summary>
    /// The commit rule (§5.4.2): the highest index on a majority, but only if its entry is of this leader's term.
    /// This node's own copy counts only once durable.
    /// </summary>
    private bool MaybeCommit()
    {
        var quorumIndex = tracker.CommittedIndex(Id, Math.Min(log.Stable, log.LastIndex));
        if (quorumIndex <= log.Committed)
        {
            return false;
        }

        if (!faults.CommitPreviousTermEntriesByCount && log.TermOrZero(quorumIndex) != term)
        {
            return false;
        }

        var previous = log.Committed;
        log.CommitTo(quorumIndex);
        OnLeaderCommitAdvanced(previous);
        return true;
    }

    private void OnLeaderCommitAdvanced(ulong previous)
    {
        if (config.MaxUncommittedBytes > 0)
        {
            for (var i = previous + 1; i <= log.Committed; i++)
            {
                if (log.At(i).Term == term)
                {
                    uncommittedBytes -= log.At(i).Data.Length;
                }
            }

            uncommittedBytes = Math.Max(uncommittedBytes, 0);
        }

        // Followers learn the new commit index with the next Ready's Append round.
        broadcastPending = true;
        if (log.TermOrZero(previous) != term && log.TermOrZero(log.Committed) == term)
        {
            OnFirstCommitInTerm();
        }

        MaybeStepDownAfterRemoval();
    }
}
