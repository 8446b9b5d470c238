namespace Bulwark.Consensus;

/// <summary>Static settings of one node's core. Times are in ticks; the host decides how long a tick is.</summary>
public sealed record RaftConfig
{
    /// <summary>This node's id (non-zero).</summary>
    public required ulong Id { get; init; }

    /// <summary>A follower that hears no leader for a randomized time in [ElectionTicks, 2*ElectionTicks) campaigns.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>A leader sends heartbeats every HeartbeatTicks. Must be less than ElectionTicks.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Pre-vote (dissertation §9.6): a partitioned node does not disrupt the cluster when it returns.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum within an election timeout steps down.</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>At most this many bytes of entries in one Append message (at least one entry is always sent).</summary>
    public int MaxMessageBytes { get; init; } = 1 << 20;

    /// <summary>At most this many Append messages in flight to one follower in the replicate state.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>
    /// A snapshot the host's transport has neither reported sent (<see cref="RaftNode.ReportSnapshotSent"/>) nor failed
    /// (<see cref="RaftNode.ReportSnapshotFailure"/>) for this many ticks is given up and probed again: the last resort
    /// against a transport that hangs without noticing. Streaming a large snapshot legitimately takes many election
    /// timeouts, so this is long. 0 (the default) means 60 election timeouts (600 ticks, 30 s, at the default 10
    /// election ticks of 50 ms), so it scales with whatever election timeout the operator chose; see
    /// <see cref="EffectiveSnapshotSendTimeoutTicks"/>.
    /// </summary>
    public int SnapshotSendTimeoutTicks { get; init; }

    /// <summary>The snapshot send timeout in force: <see cref="SnapshotSendTimeoutTicks"/>, or 60 election timeouts when that is 0.</summary>
    public int EffectiveSnapshotSendTimeoutTicks => SnapshotSendTimeoutTicks > 0 ? SnapshotSendTimeoutTicks : 60 * ElectionTicks;

    /// <summary>
    /// "Alive but not committing" reports (docs/consensus.md, "Gray failures" part 3): a voting follower that keeps
    /// hearing its leader while it holds entries past its commit index (or has forwarded a proposal), and sees the
    /// commit index stay put for this many ticks, reports the leader to the other voters; a quorum of such reports
    /// starts a pre-vote campaign. 0 (the default) turns it off. Must exceed <see cref="ElectionTicks"/>.
    /// </summary>
    public int NoProgressTicks { get; init; }

    /// <summary>Proposals are refused once this many bytes of uncommitted entries are in the leader's log (0 = no limit).</summary>
    public long MaxUncommittedBytes { get; init; }

    /// <summary>Deliberate protocol bugs for checker tests (see <see cref="RaftTestFaults"/>); off by default.</summary>
    internal RaftTestFaults TestFaults { get; init; } = RaftTestFaults.None;

    public void Validate()
    {
        if (Id == 0) throw new ArgumentException("node id must be non-zero", nameof(Id));
        if (HeartbeatTicks <= 0) throw new ArgumentException("heartbeat ticks must be positive", nameof(HeartbeatTicks));
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException("election ticks must exceed heartbeat ticks", nameof(ElectionTicks));
        if (MaxInflightMessages <= 0) throw new ArgumentException("max inflight messages must be positive", nameof(MaxInflightMessages));
        if (SnapshotSendTimeoutTicks < 0) throw new ArgumentException("snapshot send timeout ticks must not be negative (0 = 60 election timeouts)", nameof(SnapshotSendTimeoutTicks));
        if (EffectiveSnapshotSendTimeoutTicks <= ElectionTicks) throw new ArgumentException("snapshot send timeout ticks must exceed election ticks", nameof(SnapshotSendTimeoutTicks));
        if (NoProgressTicks < 0 || (NoProgressTicks > 0 && NoProgressTicks <= ElectionTicks)) throw new ArgumentException("no-progress ticks must be 0 (off) or exceed election ticks", nameof(NoProgressTicks));
        if (MaxMessageBytes <= 0) throw new ArgumentException("max message bytes must be positive", nameof(MaxMessageBytes));
    }
}
