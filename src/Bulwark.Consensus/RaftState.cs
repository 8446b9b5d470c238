using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>
/// What a node recovered from its own disk, handed to a new <see cref="RaftNode"/>: the hard state, the newest
/// snapshot's metadata (null if none) and the entries after it, in order and contiguous. A brand-new node starts
/// from <see cref="Bootstrap"/>. Applied is the index the host's state machine already reflects (at least the
/// snapshot's index); the core hands out committed entries after it.
/// </summary>
public sealed record RaftState(
    HardState HardState,
    SnapshotMetadata? Snapshot,
    ImmutableArray<Entry> Entries,
    ulong Applied)
{
    /// <summary>A fresh node of a new cluster with the given initial voters (the same on every founding node).</summary>
    public static RaftState Bootstrap(ClusterConfig initial) =>
        new(HardState.Empty, new SnapshotMetadata(0, 0, initial), ImmutableArray<Entry>.Empty, 0);
}
