namespace Bulwark.Server.Transport;

/// <summary>
/// The receiving node could not store an inbound snapshot (disk full, I/O error). The connection is closed, which the
/// sender reports as a failed snapshot; Raft sends it again later.
/// </summary>
public sealed class SnapshotRefusedException(string message, Exception inner) : Exception(message, inner);
