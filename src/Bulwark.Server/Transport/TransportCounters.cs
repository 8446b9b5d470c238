namespace Bulwark.Server.Transport;

/// <summary>Thread-safe running totals of one transport (or one peer), read by metrics.</summary>
internal sealed class TransportCounters
{
    private long messagesSent;
    private long messagesReceived;
    private long messagesDropped;
    private long reconnects;
    private long bytesSent;
    private long bytesReceived;
    private long snapshotsSent;
    private long snapshotsReceived;
    private long snapshotsFailed;
    private long handshakesRejected;
    private long flushes;

    public long MessagesSent => Interlocked.Read(ref messagesSent);
    public long MessagesReceived => Interlocked.Read(ref messagesReceived);
    public long MessagesDropped => Interlocked.Read(ref messagesDropped);
    public long Reconnects => Interlocked.Read(ref reconnects);
    public long BytesSent => Interlocked.Read(ref bytesSent);
    public long BytesReceived => Interlocked.Read(ref bytesReceived);
    public long SnapshotsSent => Interlocked.Read(ref snapshotsSent);
    public long SnapshotsReceived => Interlocked.Read(ref snapshotsReceived);
    public long SnapshotsFailed => Interlocked.Read(ref snapshotsFailed);
    public long HandshakesRejected => Interlocked.Read(ref handshakesRejected);
    public long Flushes => Interlocked.Read(ref flushes);

    public void AddSent(long messages, long bytes)
    {
        Interlocked.Increment(ref flushes);
        Interlocked.Add(ref messagesSent, messages);
        Interlocked.Add(ref bytesSent, bytes);
    }

    public void AddReceived(long messages, long bytes)
    {
        Interlocked.Add(ref messagesReceived, messages);
        Interlocked.Add(ref bytesReceived, bytes);
    }

    public void AddDropped(long messages) => Interlocked.Add(ref messagesDropped, messages);

    public void AddReconnect() => Interlocked.Increment(ref reconnects);

    public void AddSnapshotSent() => Interlocked.Increment(ref snapshotsSent);

    public void AddSnapshotReceived() => Interlocked.Increment(ref snapshotsReceived);

    public void AddSnapshotFailed() => Interlocked.Increment(ref snapshotsFailed);

    public void AddHandshakeRejected() => Interlocked.Increment(ref handshakesRejected);
}
