namespace Bulwark.Consensus;

/// <summary>Identifies a snapshot: the last index and term it covers and the membership as of that index.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ClusterConfig Config);

/// <summary>
/// A snapshot of the application state. The core never produces snapshot data itself: a leader emits an
/// InstallSnapshot message with empty <see cref="Data"/> and the host fills it from its newest snapshot file
/// (streaming it in chunks over the transport). A follower's core passes the received data through
/// <see cref="Ready.Snapshot"/> for the host to install.
/// </summary>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data);
