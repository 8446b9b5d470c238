using Bulwark.Consensus.Log;
using Bulwark.Consensus.Tracking;

namespace Bulwark.Consensus;

/// <summary>
/// One node's Raft state machine. It does no I/O, reads no clock and owns no thread: the host feeds it ticks,
/// messages and requests, then drains a <see cref="Ready"/> and calls <see cref="Advance"/>. Not thread-safe:
/// exactly one loop may call it.
/// </summary>
/// <remarks>
/// The class is split by concern: this file holds state and the public entry points; Step.cs the message
/// dispatch and term rules; Election.cs, Replication.cs, ReadIndex.cs, Transfer.cs, Membership.cs and
/// Ready.cs the protocol parts; Invariants.cs the safety checks that run always.
/// </remarks>
public sealed partial class RaftNode
{
    private readonly RaftConfig config;
    private readonly IRandomSource random;
    private readonly RaftTestFaults faults;
    private readonly RaftLog log;
    private readonly ProgressTracker tracker;

    /// <summary>The newest snapshot the host reported saved (see <see cref="Compact(ulong, ulong)"/>); null until one is.</summary>
    private SnapshotMetadata? savedSnapshot;

    private ulong term;
    private ulong vote;
    private ulong lead;
    private Role role;

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;

    /// <summary>Proposals refused and TimeoutNow pending while non-zero.</summary>
    private ulong leadTransferee;

    /// <summary>Index of the newest configuration entry this leader appended (or its last index at election).</summary>
    private ulong pendingConfigIndex;

    /// <summary>Bytes of entry data this leader appended that are not yet committed (only kept when limited).</summary>
    private long uncommittedBytes;

    /// <summary>Builds a node from what it recovered from disk (or <see cref="RaftState.Bootstrap"/>).</summary>
    public RaftNode(RaftConfig config, RaftState state, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(random);
        config.Validate();
        this.config = config;
        this.random = random;
        faults = config.TestFaults;

        var snapshot = state.Snapshot ?? new SnapshotMetadata(
            0, 0, new ClusterConfig([], [], []));
        log = new RaftLog(snapshot, state.Entries, state.HardState.Commit, state.Applied);
        tracker = new ProgressTracker(log.Config, config.MaxInflightMessages);

        term = state.HardState.Term;
        vote = state.HardState.Vote;
        durableTerm = term;
        durableVote = vote;
        // Store the recovered hard state as-is; a corrected one below then differs and goes out in the first Ready.
        lastHardState = new HardState(term, vote, log.Committed);
        if (term < log.LastTerm)
        {
            // A crash after the entries of a batch reached the disk but before its hard state did. Nothing from
            // that batch was acknowledged (responses wait for the sync), so in the entries' term this node never
            // durably voted: adopt that term with no vote.
            term = log.LastTerm;
            vote = 0;
        }

        role = Role.Follower;
        durableTerm = term;
        durableVote = vote;
        lastSoftState = CurrentSoftState();
        transferCampaignContext = "CampaignTransfer"u8.ToArray();
        ResetTimers();
    }

    public ulong Id => config.Id;

    /// <summary>Advances logical time by one tick (election and heartbeat timers).</summary>
    public void Tick()
    {
        TickNoProgress();
        if (role == Role.Leader)
        {
            TickLeader();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Proposes application data. On a follower it is forwarded to the known leader.</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data) => ProposeEntry(EntryType.Normal, data);

    /// <summary>Starts an election now (tests and operators). A leader, learner or removed node ignores it.</summary>
    public void Campaign()
    {
        if (role != Role.Leader)
        {
            StartCampaign(config.PreVote ? CampaignKind.PreElection : CampaignKind.Election);
        }
    }

    /// <summary>
    /// The host saved a snapshot of the state machine at <paramref name="index"/> (at most the applied index):
    /// entries up to it may be dropped, and followers behind it get InstallSnapshot.
    /// </summary>
    public void Compact(ulong index) => Compact(index, keepEntries: 0);

    /// <summary>
    /// The host saved a snapshot of the state machine at <paramref name="snapshotIndex"/> (at most the applied index):
    /// followers behind the log get InstallSnapshot of it, and entries up to <paramref name="snapshotIndex"/> minus
    /// <paramref name="keepEntries"/> are dropped. The kept tail lets a follower that lags the snapshot by fewer entries
    /// (one that fell back to probing just behind it) catch up from the log rather than with a whole snapshot (etcd's
    /// SnapshotCatchUpEntries). An older snapshot than the newest one known changes nothing.
    /// </summary>
    public void Compact(ulong snapshotIndex, ulong keepEntries)
    {
        var before = SnapshotToSend.Index;
        if (snapshotIndex <= before)
        {
            return;
        }

        log.EnsureCompactable(snapshotIndex);
        // Taken before compacting: the snapshot's term and membership come from the log, which may keep its entry.
        var saved = new SnapshotMetadata(snapshotIndex, log.TermOrZero(snapshotIndex), log.ConfigAt(snapshotIndex));
        log.Compact(snapshotIndex - Math.Min(keepEntries, snapshotIndex));
        savedSnapshot = saved;
        RefreshQueuedSnapshots(messages);
        RefreshQueuedSnapshots(messagesAfterPersist);
    }

    /// <summary>
    /// What InstallSnapshot names: the newest snapshot the host saved, unless the log was since replaced by a newer one
    /// from a leader (or the node started from one), whose metadata the log holds.
    /// </summary>
    private SnapshotMetadata SnapshotToSend =>
        savedSnapshot is { } saved && saved.Index >= log.SnapshotIndex ? saved : log.SnapshotMetadata;

    /// <summary>
    /// InstallSnapshot messages still queued name the previous snapshot, which the host may no longer have: they are
    /// re-pointed at the new one (newer is always acceptable to the follower).
    /// </summary>
    private void RefreshQueuedSnapshots(List<Message> queue)
    {
        for (var i = 0; i < queue.Count; i++)
        {
            if (queue[i] is { Type: MessageType.Snapshot, Snapshot: not null } message)
            {
                var metadata = SnapshotToSend;
                queue[i] = message with { Snapshot = new Snapshot(metadata, ReadOnlyMemory<byte>.Empty) };
                tracker.Get(message.To)?.BecomeSnapshot(metadata.Index);
            }
        }
    }

    /// <summary>Reports that a snapshot sent to <paramref name="to"/> failed to arrive, so it is probed again.</summary>
    public void ReportSnapshotFailure(ulong to)
    {
        var progress = role == Role.Leader ? tracker.Get(to) : null;
        if (progress is { State: ProgressState.Snapshot })
        {
            // Probe again after the next heartbeat response rather than resending the snapshot at once.
            progress.BecomeProbe();
            progress.ProbeSent = true;
        }
    }

    /// <summary>
    /// Reports that the host's transport wrote the last byte of the snapshot sent to <paramref name="to"/> (etcd's
    /// ReportSnapshot(SnapshotFinish)).
    /// </summary>
    /// <remarks>
    /// Until this report the leader never gives up on the snapshot for want of an acknowledgement: the follower can
    /// only answer once it has the whole snapshot, and streaming a large one takes far longer than an election timeout
    /// (giving up earlier sent the same snapshot again while the first was still on the wire, issue 15). From here on
    /// the acknowledgement is due soon; if none comes within two election timeouts, the member is probed again.
    /// </remarks>
    public void ReportSnapshotSent(ulong to)
    {
        var progress = role == Role.Leader ? tracker.Get(to) : null;
        if (progress is { State: ProgressState.Snapshot, SnapshotDelivered: false })
        {
            progress.SnapshotDelivered = true;
            progress.SnapshotRounds = 0;
        }
    }

    /// <summary>Reports that <paramref name="to"/> is unreachable, so replication to it drops back to probing.</summary>
    public void ReportUnreachable(ulong to)
    {
        var progress = role == Role.Leader ? tracker.Get(to) : null;
        if (progress is { State: ProgressState.Replicate })
        {
            progress.BecomeProbe();
        }
    }

    public RaftStatus Status()
    {
        var progress = System.Collections.Immutable.ImmutableArray<FollowerProgress>.Empty;
        if (role == Role.Leader)
        {
            var builder = System.Collections.Immutable.ImmutableArray.CreateBuilder<FollowerProgress>(tracker.Members.Count);
            foreach (var member in tracker.Members)
            {
                builder.Add(member.Id == Id
                    ? new FollowerProgress(Id, log.Stable, log.LastIndex + 1, ProgressState.Replicate, true, member.IsLearner)
                    : member.ToStatus());
            }

            progress = builder.MoveToImmutable();
        }

        return new RaftStatus(Id, CurrentSoftState(), new HardState(term, vote, log.Committed), log.FirstIndex,
            log.LastIndex, log.Applied, log.Config, leadTransferee, progress);
    }

    private bool IsPromotable => log.Config.Voters.Contains(Id);

    private SoftState CurrentSoftState()
    {
        var shownRole = role == Role.Follower && log.Config.Learners.Contains(Id) ? Role.Learner : role;
        return new SoftState(lead, shownRole, term);
    }

    private void ResetTimers()
    {
        electionElapsed = 0;
        heartbeatElapsed = 0;
        randomizedElectionTimeout = config.ElectionTicks + random.Next(config.ElectionTicks);
        campaignSoonAfterLeaderLoss = false;
        CancelLeaderLossReport();
    }
}
