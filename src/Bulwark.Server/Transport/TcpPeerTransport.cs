using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Bulwark.Consensus;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Transport;

/// <summary>
/// Raft messages between nodes over TCP. One outbound connection per peer carries this node's messages to it; a
/// listener accepts the peers' connections and delivers what they send to <see cref="Incoming"/>.
/// <see cref="Send"/> never blocks: each peer has a bounded queue, and a full queue drops (and counts) the message,
/// so a slow or dead peer cannot hold up the host loop or the heartbeats to the other peers.
/// </summary>
public sealed class TcpPeerTransport : IAsyncDisposable, IPeerSenderHost
{
    private readonly ConcurrentDictionary<ulong, PeerSender> peers = new();
    private readonly ConcurrentDictionary<InboundConnection, Task> inbound = new();
    private readonly Channel<Message> incoming;
    private readonly CancellationTokenSource stop = new();
    private readonly TransportCounters totals = new();
    private readonly ILogger logger;
    private readonly Lock lifecycle = new();
    private readonly Dictionary<ulong, string> addedBeforeStart = [];
    private Socket? listener;
    private Task acceptLoop = Task.CompletedTask;
    private bool started;
    private bool disposed;

    /// <param name="snapshotFiles">Where snapshots are streamed from and to (see <see cref="ISnapshotFiles"/>); null keeps
    /// them in the messages, in memory.</param>
    public TcpPeerTransport(PeerTransportOptions options, TimeProvider? time = null, ILogger<TcpPeerTransport>? logger = null, ISnapshotFiles? snapshotFiles = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        SnapshotFiles = snapshotFiles;
        Time = time ?? TimeProvider.System;
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        incoming = Channel.CreateBounded<Message>(new BoundedChannelOptions(options.IncomingCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>
    /// Messages received from peers, in order per sender. An InstallSnapshot message arrives once all its data was
    /// received and verified: with empty data when <see cref="ISnapshotFiles"/> stored it durably (at the snapshot's
    /// index and term), otherwise with the data in memory.
    /// Bounded (<see cref="PeerTransportOptions.IncomingCapacity"/>): when the reader falls behind, the connections stop
    /// reading their sockets until there is room, so the peers' own bounded send queues absorb (and drop) the excess.
    /// </summary>
    public ChannelReader<Message> Incoming => incoming.Reader;

    /// <summary>
    /// Called on the receiving connection's thread right after a message was queued on <see cref="Incoming"/>. Lets a
    /// reader that polls <see cref="Incoming"/> from its own loop be woken directly, instead of through a pump task that
    /// waits on the channel (one thread hand-off less per message). Must be cheap and must not throw or block.
    /// </summary>
    public event Action<Message>? MessageQueued;

    /// <summary>Raised when a peer cannot be reached or its queue overflowed: the host calls RaftNode.ReportUnreachable.</summary>
    public event Action<ulong>? PeerUnreachable;

    /// <summary>
    /// Raised when the connection to a peer closed or a dial to it was refused — what peers see at once when a
    /// process dies: the host calls RaftNode.ReportConnectionLost. A peer merely unreachable (partition, dial
    /// timeout) does not raise it.
    /// </summary>
    public event Action<ulong>? PeerConnectionLost;

    /// <summary>
    /// Raised when a client request this member forwarded (Propose or ReadIndex) was dropped without a byte of it sent
    /// (the peer was unreachable or its queue full): it certainly never arrived, so the host can fail its caller at once.
    /// </summary>
    public event Action<Message>? RequestUndelivered;

    /// <summary>Raised when a snapshot could not be delivered: the host calls RaftNode.ReportSnapshotFailure.</summary>
    public event Action<ulong>? SnapshotSendFailed;

    /// <summary>
    /// Raised when the last byte of a snapshot to a peer was written: the host calls RaftNode.ReportSnapshotSent, so the
    /// leader waits for the follower's acknowledgement from then on rather than from the start of a long stream.
    /// </summary>
    public event Action<ulong>? SnapshotSent;

    /// <summary>
    /// Raised when this node refused an inbound connection before reading any message from it (remote address, reason):
    /// a failed TLS handshake or a refused handshake frame. Raised on the connection's thread.
    /// </summary>
    public event Action<string, string>? InboundRefused;

    /// <summary>Raised when a peer refused our handshake (peer id, its reason): a misconfiguration an operator must fix.</summary>
    public event Action<ulong, string>? HandshakeRejected;

    public PeerTransportOptions Options { get; }

    /// <summary>Where snapshots are streamed from and to, or null (kept in the messages).</summary>
    public ISnapshotFiles? SnapshotFiles { get; }

    /// <summary>The address actually listened on (with the real port when <see cref="PeerTransportOptions.ListenEndpoint"/> had port 0).</summary>
    public IPEndPoint ListenEndpoint => (IPEndPoint?)listener?.LocalEndPoint ?? Options.ListenEndpoint;

    public long MessagesSent => totals.MessagesSent;

    public long MessagesReceived => totals.MessagesReceived;

    /// <summary>Messages not delivered: queue full, peer unreachable, unknown peer, or too large for a frame.</summary>
    public long MessagesDropped => totals.MessagesDropped;

    /// <summary>Connections re-established after a peer connection was lost or could not be made.</summary>
    public long Reconnects => totals.Reconnects;

    public long BytesSent => totals.BytesSent;

    public long BytesReceived => totals.BytesReceived;

    public long SnapshotsSent => totals.SnapshotsSent;

    public long SnapshotsReceived => totals.SnapshotsReceived;

    public long SnapshotsFailed => totals.SnapshotsFailed;

    /// <summary>Writes flushed to peer sockets; each carries a batch of queued messages (and at most one snapshot chunk).</summary>
    public long Flushes => totals.Flushes;

    /// <summary>Handshakes refused, in either direction.</summary>
    public long HandshakesRejected => totals.HandshakesRejected;

    TimeProvider IPeerSenderHost.Time => Time;

    ILogger IPeerSenderHost.Logger => logger;

    TransportCounters IPeerSenderHost.Totals => totals;

    private TimeProvider Time { get; }

    /// <summary>Binds the listener and starts dialing the configured peers.</summary>
    public void Start()
    {
        lock (lifecycle)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (started)
            {
                throw new InvalidOperationException("the transport is already started");
            }

            var socket = new Socket(Options.ListenEndpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (!OperatingSystem.IsWindows())
                {
                    // On Unix this only lets a restarted node rebind while old connections sit in TIME_WAIT.
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                }

                socket.Bind(Options.ListenEndpoint);
                socket.Listen(128);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            listener = socket;
            started = true;
            TransportLog.Listening(logger, Options.LocalId, ListenEndpoint.ToString());
            acceptLoop = Task.Run(() => AcceptLoopAsync(socket, stop.Token));
            foreach (var (id, address) in Options.Peers.Where(p => !addedBeforeStart.ContainsKey(p.Key)).Concat(addedBeforeStart))
            {
                AddPeerLocked(id, address);
            }

            addedBeforeStart.Clear();
        }
    }

    /// <summary>Queues a message for its recipient (<see cref="Message.To"/>). Never blocks; false when it was dropped.</summary>
    public bool Send(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (peers.TryGetValue(message.To, out var sender))
        {
            return sender.TryEnqueue(message);
        }

        totals.AddDropped(1);
        if (message.Type is not (MessageType.Heartbeat or MessageType.HeartbeatResponse))
        {
            TransportLog.MessageDropped(logger, message.Type.ToString(), message.To, "unknown peer");
        }

        if (message.Snapshot is not null)
        {
            totals.AddSnapshotFailed();
            RaiseSafely(() => SnapshotSendFailed?.Invoke(message.To));
        }

        if (message.Type is MessageType.Propose or MessageType.ReadIndex)
        {
            RaiseSafely(() => RequestUndelivered?.Invoke(message));
        }

        return false;
    }

    /// <summary>Starts sending to a peer (e.g. after a membership change). Replaces its address if already known.</summary>
    public async Task AddOrUpdatePeerAsync(ulong id, string address)
    {
        PeerAddress.Parse(address);
        if (id == 0 || id == Options.LocalId)
        {
            throw new ArgumentException($"peer id {id:x} is zero or this node's own id", nameof(id));
        }

        if (peers.TryGetValue(id, out var existing) && existing.Address == PeerAddress.Parse(address))
        {
            return;
        }

        await RemovePeerAsync(id).ConfigureAwait(false);
        lock (lifecycle)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            AddPeerLocked(id, address);
        }
    }

    /// <summary>
    /// Stops sending to a peer and closes its connections to this node (its queued messages are discarded): a removed
    /// member that still runs redials, and its handshake is refused if <see cref="PeerTransportOptions.IsRemovedMember"/>
    /// says so. A peer whose address changed is redialed by <see cref="AddOrUpdatePeerAsync"/>.
    /// </summary>
    public async Task RemovePeerAsync(ulong id)
    {
        if (Options.IsRemovedMember?.Invoke(id) == true)
        {
            foreach (var connection in inbound.Keys.Where(c => c.Sender == id))
            {
                connection.Close();
            }
        }

        lock (lifecycle)
        {
            addedBeforeStart.Remove(id);
        }

        if (peers.TryRemove(id, out var sender))
        {
            await sender.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Messages waiting in the send queue to <paramref name="peer"/> (0 for a peer this transport does not know).</summary>
    public int QueuedTo(ulong peer) => peers.TryGetValue(peer, out var sender) ? sender.Queued : 0;

    public IReadOnlyList<PeerStats> GetPeerStats() => peers.Values.Select(p => p.Stats()).OrderBy(s => s.PeerId).ToList();

    /// <summary>Stops listening, closes every connection and completes <see cref="Incoming"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (lifecycle)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        listener?.Dispose();
        await acceptLoop.ConfigureAwait(false);
        foreach (var id in peers.Keys)
        {
            await RemovePeerAsync(id).ConfigureAwait(false);
        }

        await Task.WhenAll(inbound.Values).ConfigureAwait(false);
        incoming.Writer.TryComplete();
        stop.Dispose();
    }

    void IPeerSenderHost.OnUnreachable(ulong peerId) => RaiseSafely(() => PeerUnreachable?.Invoke(peerId));

    void IPeerSenderHost.OnConnectionLost(ulong peerId) => RaiseSafely(() => PeerConnectionLost?.Invoke(peerId));

    void IPeerSenderHost.OnRequestUndelivered(Message message) => RaiseSafely(() => RequestUndelivered?.Invoke(message));

    void IPeerSenderHost.OnSnapshotFailed(ulong peerId, Message message, string reason) => RaiseSafely(() => SnapshotSendFailed?.Invoke(peerId));

    void IPeerSenderHost.OnSnapshotSent(ulong peerId) => RaiseSafely(() => SnapshotSent?.Invoke(peerId));

    void IPeerSenderHost.OnHandshakeRejected(ulong peerId, string reason) => RaiseSafely(() => HandshakeRejected?.Invoke(peerId, reason));

    private void OnMessageQueued(Message message) => MessageQueued?.Invoke(message);

    private void AddPeerLocked(ulong id, string address)
    {
        if (!started)
        {
            addedBeforeStart[id] = address; // dialed by Start
            return;
        }

        var sender = new PeerSender(this, id, address);
        if (peers.TryAdd(id, sender))
        {
            sender.Start();
        }
    }

    private async Task AcceptLoopAsync(Socket socket, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await socket.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            accepted.NoDelay = true;
            try
            {
                PeerSocketKeepAlive.Enable(accepted, Options);
            }
            catch (SocketException)
            {
                // the connection failed already: its reader finds out at once
            }
            var connection = new InboundConnection(accepted, Options, SnapshotFiles, incoming.Writer, OnMessageQueued, totals, logger,
                (remote, reason) => RaiseSafely(() => InboundRefused?.Invoke(remote, reason)), OnPeerDialedIn);
            var task = Task.Run(() => connection.RunAsync(ct), CancellationToken.None);
            inbound[connection] = task;
            _ = task.ContinueWith(_ => inbound.TryRemove(connection, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A peer dialing in is up again: redial it now rather than when the backoff from its downtime runs out (issue 15:
    /// a restarted member's catch-up waited up to ReconnectMaxDelay for the leader's redial).
    /// </summary>
    private void OnPeerDialedIn(ulong peerId)
    {
        if (peers.TryGetValue(peerId, out var peer))
        {
            peer.RedialNow();
        }
    }

    private void RaiseSafely(Action raise)
    {
        try
        {
            raise();
        }
        catch (Exception e)
        {
            TransportLog.HandlerFailed(logger, e);
        }
    }
}
