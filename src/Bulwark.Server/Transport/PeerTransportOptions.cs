using System.Collections.Immutable;
using System.Net;

namespace Bulwark.Server.Transport;

/// <summary>Settings of one node's <see cref="TcpPeerTransport"/>. Defaults suit a LAN cluster with a 50 ms heartbeat.</summary>
public sealed record PeerTransportOptions
{
    /// <summary>Identifies the cluster: a peer presenting another id in its handshake is turned away.</summary>
    public required ulong ClusterId { get; init; }

    /// <summary>This node's id (non-zero).</summary>
    public required ulong LocalId { get; init; }

    /// <summary>Where to accept peer connections. Port 0 picks a free port (see <see cref="TcpPeerTransport.ListenEndpoint"/>).</summary>
    public required IPEndPoint ListenEndpoint { get; init; }

    /// <summary>Peers to send to: id to "host:port" (a URL such as http://host:port is accepted too).</summary>
    public IReadOnlyDictionary<ulong, string> Peers { get; init; } = ImmutableDictionary<ulong, string>.Empty;

    /// <summary>Messages waiting per peer. When full, further messages to that peer are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 4096;

    /// <summary>Upper bound on one write: queued messages are drained into one flush until this many bytes.</summary>
    public int MaxBatchBytes { get; init; } = 1 << 20;

    /// <summary>Largest frame sent or accepted (after the length prefix). Larger inbound lengths close the connection.</summary>
    public int MaxFrameBytes { get; init; } = FrameFormat.DefaultMaxFrameBytes;

    /// <summary>
    /// Snapshot data is streamed in chunks of this size, interleaved with ordinary messages; it is also about what each
    /// side holds of a snapshot in memory. A snapshot's total size has no limit but the receiver's disk.
    /// </summary>
    public int SnapshotChunkBytes { get; init; } = DefaultSnapshotChunkBytes;

    /// <summary>The default of <see cref="SnapshotChunkBytes"/>: 1 MiB.</summary>
    public const int DefaultSnapshotChunkBytes = 1 << 20;

    /// <summary>Received messages waiting for the host; when full, reading from peers pauses (TCP pushes back).</summary>
    public int IncomingCapacity { get; init; } = 8192;

    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>First reconnect delay; it doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Idle time on a peer connection before TCP keepalive probes start (whole seconds; see <see cref="PeerSocketKeepAlive"/>).</summary>
    public TimeSpan KeepAliveTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Time between unanswered keepalive probes (whole seconds).</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Unanswered probes after which the kernel resets the connection.</summary>
    public int KeepAliveProbes { get; init; } = 3;

    /// <summary>Seed of the reconnect jitter, so a run can be reproduced.</summary>
    public int JitterSeed { get; init; }

    /// <summary>
    /// Answers a joining member's <see cref="MemberQueryFrame"/> (who is in the cluster); null (or a null answer) refuses
    /// it by closing the connection. Called on the connection's thread.
    /// </summary>
    public Func<MemberQueryReplyFrame?>? AnswerMemberQuery { get; init; }

    /// <summary>
    /// True for the id of a member removed from the cluster: its handshake is refused with
    /// "the member has been permanently removed from the cluster", which tells it to stop. Called on the connection's thread.
    /// </summary>
    public Func<ulong, bool>? IsRemovedMember { get; init; }

    /// <summary>
    /// TLS on every peer connection (null: plain TCP): the listener presents its certificate and, with client-cert-auth,
    /// requires the dialler's; a dialler presents its certificate and checks that the listener's chains to the trusted
    /// CA and names the host it dialled.
    /// </summary>
    public Security.TlsCredentials? Tls { get; init; }

    /// <summary>What a removed member's refused handshake says (etcd's words); the dialer matches it and stops.</summary>
    public const string RemovedMemberRefusal = "the member has been permanently removed from the cluster";

    public void Validate()
    {
        if (LocalId == 0) throw new ArgumentException("local node id must be non-zero", nameof(LocalId));
        if (QueueCapacity <= 0) throw new ArgumentException("queue capacity must be positive", nameof(QueueCapacity));
        if (IncomingCapacity <= 0) throw new ArgumentException("incoming capacity must be positive", nameof(IncomingCapacity));
        if (MaxFrameBytes < FrameFormat.MinMaxFrameBytes) throw new ArgumentException($"max frame bytes must be at least {FrameFormat.MinMaxFrameBytes}", nameof(MaxFrameBytes));
        if (MaxBatchBytes <= 0) throw new ArgumentException("max batch bytes must be positive", nameof(MaxBatchBytes));
        if (SnapshotChunkBytes <= 0 || SnapshotChunkBytes > MaxFrameBytes - 64)
        {
            throw new ArgumentException($"snapshot chunk bytes must be positive and leave room for the chunk header within {MaxFrameBytes} bytes", nameof(SnapshotChunkBytes));
        }

        if (DialTimeout <= TimeSpan.Zero) throw new ArgumentException("dial timeout must be positive", nameof(DialTimeout));
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException("handshake timeout must be positive", nameof(HandshakeTimeout));
        if (KeepAliveTime < TimeSpan.FromSeconds(1) || KeepAliveInterval < TimeSpan.FromSeconds(1) || KeepAliveProbes <= 0)
        {
            throw new ArgumentException("keepalive time and interval must be at least 1 s and probes positive", nameof(KeepAliveTime));
        }

        if (ReconnectBaseDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectBaseDelay)
        {
            throw new ArgumentException("reconnect delays must be positive with max >= base", nameof(ReconnectMaxDelay));
        }

        foreach (var (id, address) in Peers)
        {
            if (id == 0 || id == LocalId) throw new ArgumentException($"peer id {id:x} is zero or this node's own id", nameof(Peers));
            PeerAddress.Parse(address);
        }
    }
}
