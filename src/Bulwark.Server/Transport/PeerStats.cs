namespace Bulwark.Server.Transport;

/// <summary>A point-in-time view of the outbound side of one peer.</summary>
public sealed record PeerStats(
    ulong PeerId,
    string Address,
    bool Connected,
    int Queued,
    long MessagesSent,
    long MessagesDropped,
    long BytesSent,
    long Reconnects,
    long SnapshotsSent,
    long SnapshotsFailed);
