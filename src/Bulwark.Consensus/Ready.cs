using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>A linearizable read is safe once the host has applied up to <see cref="Index"/>.</summary>
public readonly record struct ReadState(ulong Index, ReadOnlyMemory<byte> Context);

/// <summary>
/// Everything the host must do for the core, batched. The host handles a Ready in this order:
/// <list type="number">
/// <item>send <see cref="Messages"/> at once (they depend on nothing unsynced: the leader's appends and heartbeats);</item>
/// <item>install <see cref="Snapshot"/> if set, then append <see cref="Entries"/> (truncating any conflicting suffix
///   from the first entry's index) and persist <see cref="HardState"/> if set — one sync for the whole batch;</item>
/// <item>only then send <see cref="MessagesAfterPersist"/> (votes and acknowledgements that promise durability);</item>
/// <item>apply <see cref="CommittedEntries"/> in order and answer <see cref="ReadStates"/> once applied far enough;</item>
/// <item>call <see cref="RaftNode.Advance"/> with this Ready.</item>
/// </list>
/// The leader counts its own copy of an entry toward a quorum only after Advance reports it durable.
/// </summary>
public sealed record Ready
{
    /// <summary>Set when role, leader or term changed since the last Ready.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>Set when term, vote or commit changed; persist (and sync when <see cref="MustSync"/>) before sending <see cref="MessagesAfterPersist"/>.</summary>
    public HardState? HardState { get; init; }

    /// <summary>New entries to append durably; may overwrite (truncate) an uncommitted suffix.</summary>
    public ImmutableArray<Entry> Entries { get; init; } = ImmutableArray<Entry>.Empty;

    /// <summary>A snapshot received from the leader, to install before appending Entries.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Entries known committed and not yet handed out, to apply in order.</summary>
    public ImmutableArray<Entry> CommittedEntries { get; init; } = ImmutableArray<Entry>.Empty;

    /// <summary>Messages that may be sent before this Ready's state is durable.</summary>
    public ImmutableArray<Message> Messages { get; init; } = ImmutableArray<Message>.Empty;

    /// <summary>Messages that must not leave before this Ready's Entries, HardState and Snapshot are durable.</summary>
    public ImmutableArray<Message> MessagesAfterPersist { get; init; } = ImmutableArray<Message>.Empty;

    /// <summary>Confirmed read indexes for linearizable reads requested through <see cref="RaftNode.ReadIndex"/>.</summary>
    public ImmutableArray<ReadState> ReadStates { get; init; } = ImmutableArray<ReadState>.Empty;

    /// <summary>
    /// Set by the core when <see cref="HardState"/> differs from the last one only in its commit index. The commit index
    /// is volatile state in Raft (a restarted node learns it again from the leader, and a leader recomputes it from its
    /// followers' acknowledgements), so writing it needs no sync of its own: it becomes durable with the next sync, and
    /// a crash before that only makes the node restart with a lower commit index. Default false (sync), so a Ready built
    /// by hand is never weaker than the core's.
    /// </summary>
    public bool HardStateCommitOnly { get; init; }

    /// <summary>
    /// True when Entries, Snapshot or a changed term or vote must be synced to disk before MessagesAfterPersist go out
    /// (etcd raft's MustSync). A new commit index alone does not need a sync: see <see cref="HardStateCommitOnly"/>.
    /// </summary>
    public bool MustSync => !Entries.IsEmpty || Snapshot is not null || (HardState is not null && !HardStateCommitOnly);
}
