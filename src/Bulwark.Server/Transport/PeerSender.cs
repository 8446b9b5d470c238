using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Bulwark.Consensus;
using Bulwark.Server.Observability;

namespace Bulwark.Server.Transport;

/// <summary>
/// The outbound side of one peer: a bounded queue and one loop that dials (with backoff), handshakes, and drains the
/// queue into batched writes. Callers only ever enqueue, so a slow or dead peer costs them nothing but drops.
/// </summary>
internal sealed class PeerSender : IAsyncDisposable
{
    private readonly IPeerSenderHost host;
    private readonly Channel<Message> queue;
    private readonly TransportCounters counters = new();
    private readonly CancellationTokenSource stop = new();
    private readonly ReconnectBackoff backoff;
    private readonly ArrayBufferWriter<byte> scratch = new(4096);
    private readonly Queue<Message> pendingSnapshots = new();
    private Task loop = Task.CompletedTask;
    private ulong nextTransferId;
    private volatile bool connected;

    /// <summary>The last dial failed and the loop is waiting to redial: the peer is unreachable right now.</summary>
    private volatile bool backingOff;

    /// <summary>Completed by <see cref="RedialNow"/>: ends the current (or the next) backoff wait early. Renewed per dial.</summary>
    private TaskCompletionSource redial = NewRedialSignal();

    public PeerSender(IPeerSenderHost host, ulong peerId, string address)
    {
        this.host = host;
        PeerId = peerId;
        Address = PeerAddress.Parse(address);
        queue = Channel.CreateBounded<Message>(new BoundedChannelOptions(host.Options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite this means "refuse when full", never block
        });
        backoff = new ReconnectBackoff(
            host.Options.ReconnectBaseDelay,
            host.Options.ReconnectMaxDelay,
            new Random(HashCode.Combine(host.Options.JitterSeed, host.Options.LocalId, peerId)));
    }

    public ulong PeerId { get; }

    public PeerAddress Address { get; }

    public void Start() => loop = Task.Run(() => RunAsync(stop.Token));

    /// <summary>
    /// The peer showed it is up (it dialed in): if the loop is waiting out a backoff, dial now. Without it, a member
    /// restarted after a few seconds down is redialed only when a backoff grown towards ReconnectMaxDelay runs out.
    /// </summary>
    public void RedialNow() => Volatile.Read(ref redial).TrySetResult();

    /// <summary>Messages waiting in the queue (snapshots being opened or streamed not included).</summary>
    public int Queued => queue.Reader.Count;

    public PeerStats Stats() => new(
        PeerId, Address.ToString(), connected, queue.Reader.Count,
        counters.MessagesSent, counters.MessagesDropped, counters.BytesSent, counters.Reconnects, counters.SnapshotsSent,
        counters.SnapshotsFailed);

    /// <summary>Queues a message without ever waiting. False when the queue is full (the message is dropped and counted).</summary>
    public bool TryEnqueue(Message message)
    {
        if (backingOff && IsClientRequest(message))
        {
            // The peer refused or timed out our last dial: a client request would only wait in the queue until the
            // next dial fails. Dropping it now lets its caller hear at once that it was never delivered.
            Drop(message, "peer unreachable");
            return false;
        }

        if (queue.Writer.TryWrite(message))
        {
            return true;
        }

        Drop(message, "queue full");
        host.OnUnreachable(PeerId);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping is the expected way out of the loop
        }

        stop.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var everConnected = false;
        while (!ct.IsCancellationRequested)
        {
            Socket? socket = null;
            Stream? stream = null;
            string? failure = null;
            // A fresh signal per dial: a RedialNow during this dial cuts the backoff after it, an older one does not.
            var redialSignal = NewRedialSignal();
            Volatile.Write(ref redial, redialSignal);
            try
            {
                (socket, stream) = await DialAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or WireFormatException or HandshakeRejectedException or AuthenticationException)
            {
                failure = e is OperationCanceledException ? "timed out" : e is AuthenticationException ? $"TLS handshake failed: {e.Message}" : e.Message;
                if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
                {
                    // Nothing listens there: the peer's process is down. Repeated on every redial, which also
                    // catches a last message of the dead peer that reached the loop after the close was reported.
                    host.OnConnectionLost(PeerId);
                }
            }

            if (socket is null || stream is null)
            {
                var delay = backoff.Next();
                TransportLog.DialFailed(host.Logger, PeerId, Address.ToString(), failure ?? "unknown", (long)delay.TotalMilliseconds);
                backingOff = true;
                host.OnUnreachable(PeerId);
                DropQueued("peer unreachable");
                FailSnapshots("peer unreachable");
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    var elapsed = Task.Delay(delay, host.Time, wait.Token);
                    await Task.WhenAny(elapsed, redialSignal.Task).ConfigureAwait(false);
                    await wait.CancelAsync().ConfigureAwait(false); // stops the timer when the peer dialed in first
                }

                if (ct.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            backoff.Reset();
            backingOff = false;
            if (everConnected)
            {
                counters.AddReconnect();
                host.Totals.AddReconnect();
            }

            everConnected = true;
            connected = true;
            TransportLog.Connected(host.Logger, PeerId, Address.ToString());
            try
            {
                await PumpAsync(socket, stream, ct).ConfigureAwait(false);
                return; // queue completed: the transport is shutting down
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException or ConnectionClosedException)
            {
                TransportLog.ConnectionLost(host.Logger, PeerId, e is OperationCanceledException ? "peer closed the connection" : e.Message);
                host.OnUnreachable(PeerId);
                // The listener never writes after its ack, so the close watch sees the peer's FIN or reset at once.
                host.OnConnectionLost(PeerId);
                FailSnapshots("connection lost");
            }
            finally
            {
                connected = false;
                await stream.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Connects, secures the connection when peer TLS is on (the peer's certificate must chain to the peer CA and name
    /// the host dialled), and completes the handshake; returns the socket and the stream ready for message frames.
    /// </summary>
    private async Task<(Socket Socket, Stream Stream)> DialAsync(CancellationToken ct)
    {
        var options = host.Options;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            PeerSocketKeepAlive.Enable(socket, options);
            using (var dialTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                dialTimeout.CancelAfter(options.DialTimeout);
                await socket.ConnectAsync(Address.Host, Address.Port, dialTimeout.Token).ConfigureAwait(false);
            }

            using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            handshakeTimeout.CancelAfter(options.HandshakeTimeout);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls.ClientOptions(Address.Host), handshakeTimeout.Token).ConfigureAwait(false);
            }

            var buffer = new ArrayBufferWriter<byte>(64);
            FrameCodec.Write(buffer, new HandshakeFrame(options.ClusterId, options.LocalId, PeerId), scratch, options.MaxFrameBytes);
            await stream.WriteAsync(buffer.WrittenMemory, handshakeTimeout.Token).ConfigureAwait(false);
            var ack = await ReadAckAsync(stream, handshakeTimeout.Token).ConfigureAwait(false);
            if (!ack.Accepted)
            {
                host.Totals.AddHandshakeRejected();
                TransportLog.HandshakeRejectedByPeer(host.Logger, PeerId, Address.ToString(), ack.Reason);
                host.OnHandshakeRejected(PeerId, ack.Reason);
                throw new HandshakeRejectedException($"handshake rejected: {ack.Reason}");
            }

            return (socket, stream);
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }
    }

    private static async Task<HandshakeAckFrame> ReadAckAsync(Stream stream, CancellationToken ct)
    {
        // Read byte-exactly (no read-ahead) so nothing past the ack is consumed before the pipe takes over the socket.
        var prefix = new byte[FrameFormat.LengthPrefixBytes];
        await stream.ReadExactlyAsync(prefix, ct).ConfigureAwait(false);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length is < 2 or > 4096)
        {
            throw new WireFormatException($"handshake ack length {length} is out of range");
        }

        var body = new byte[length];
        await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false);
        return FrameCodec.Decode(body) as HandshakeAckFrame
            ?? throw new WireFormatException("peer answered the handshake with something other than an ack");
    }

    private async Task PumpAsync(Socket socket, Stream stream, CancellationToken ct)
    {
        var options = host.Options;
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        // Disposing the socket is what reliably aborts a write stuck on a peer that stopped reading.
        using var abort = connection.Token.Register(socket.Dispose);
        var closeWatch = WatchForCloseAsync(stream, connection);
        OutboundSnapshot? active = null;
        try
        {
            while (true)
            {
                if (active is null && pendingSnapshots.Count == 0 && !queue.Reader.TryPeek(out _))
                {
                    if (!await queue.Reader.WaitToReadAsync(connection.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                long batchBytes = 0;
                var batchMessages = 0;
                ulong tracedAppended = 0, tracedAcked = 0;
                while (batchBytes < options.MaxBatchBytes && queue.Reader.TryRead(out var message))
                {
                    if (message.Snapshot is not null)
                    {
                        pendingSnapshots.Enqueue(message);
                        continue;
                    }

                    try
                    {
                        batchBytes += FrameCodec.Write(writer, new MessageFrame(message), scratch, options.MaxFrameBytes);
                        batchMessages++;
                        if (PutStageTrace.Enabled)
                        {
                            TraceBatched(message, ref tracedAppended, ref tracedAcked);
                        }
                    }
                    catch (WireFormatException e)
                    {
                        Drop(message, e.Message);
                    }
                }

                if (active is null)
                {
                    active = StartSnapshot();
                    if (active is not null)
                    {
                        batchBytes += FrameCodec.Write(writer, new SnapshotBeginFrame(active.Id, active.Length, active.Message), scratch, options.MaxFrameBytes);
                    }
                }

                if (active is not null)
                {
                    // One chunk per flush, so heartbeats queued meanwhile go out between chunks.
                    try
                    {
                        if (!active.AllRead)
                        {
                            var chunk = active.NextChunk(options.SnapshotChunkBytes);
                            batchBytes += FrameCodec.Write(writer, new SnapshotChunkFrame(active.Id, active.Offset - chunk.Length, chunk), scratch, options.MaxFrameBytes);
                        }

                        if (active.AllRead)
                        {
                            batchBytes += FrameCodec.Write(writer, new SnapshotEndFrame(active.Id, active.DataCrc), scratch, options.MaxFrameBytes);
                        }
                    }
                    catch (SnapshotUnavailableException e)
                    {
                        // The receiver discards what it stored of it; the connection itself is fine.
                        batchBytes += FrameCodec.Write(writer, new SnapshotAbortFrame(active.Id), scratch, options.MaxFrameBytes);
                        SnapshotFailed(active.Message, e.Message);
                        active.Dispose();
                        active = null;
                    }
                }

                var flush = await writer.FlushAsync(connection.Token).ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    throw new ConnectionClosedException("the connection stopped accepting writes");
                }

                if (PutStageTrace.Enabled)
                {
                    PutStageTrace.Flushed(tracedAppended, tracedAcked);
                }

                counters.AddSent(batchMessages, batchBytes);
                host.Totals.AddSent(batchMessages, batchBytes);
                if (active is not null && active.AllRead)
                {
                    counters.AddSnapshotSent();
                    host.Totals.AddSnapshotSent();
                    TransportLog.SnapshotSent(host.Logger, active.Message.Snapshot!.Metadata.Index, active.Length, PeerId);
                    host.OnSnapshotSent(PeerId);
                    active.Dispose();
                    active = null;
                }
            }
        }
        catch
        {
            if (active is not null)
            {
                SnapshotFailed(active.Message, "connection lost mid-transfer");
            }

            throw;
        }
        finally
        {
            active?.Dispose();
            await connection.CancelAsync().ConfigureAwait(false);
            try
            {
                // Completing flushes what is still buffered; the socket is closed by now, so that fails at once.
                await writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // unsent frames of a dead connection: the pump's caller reports the loss
            }

            await closeWatch.ConfigureAwait(false);
        }
    }

    /// <summary>The listener never writes after its ack, so a completed read means the peer went away: stop the pump.</summary>
    private static async Task WatchForCloseAsync(Stream stream, CancellationTokenSource connection)
    {
        var buffer = new byte[64];
        try
        {
            while (await stream.ReadAsync(buffer, connection.Token).ConfigureAwait(false) > 0)
            {
                // ignore: nothing is expected here
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // either we are closing, or the socket failed: both end the connection below
        }

        await connection.CancelAsync().ConfigureAwait(false);
    }

    private void DropQueued(string reason)
    {
        while (queue.Reader.TryRead(out var message))
        {
            Drop(message, reason);
        }
    }

    private void FailSnapshots(string reason)
    {
        while (pendingSnapshots.TryDequeue(out var message))
        {
            SnapshotFailed(message, reason);
        }
    }

    private void Drop(Message message, string reason)
    {
        counters.AddDropped(1);
        host.Totals.AddDropped(1);
        if (message.Snapshot is not null)
        {
            SnapshotFailed(message, reason);
        }
        else if (message.Type != MessageType.Heartbeat && message.Type != MessageType.HeartbeatResponse)
        {
            // Heartbeats to a dead peer would flood the log; their drops show in the counters.
            TransportLog.MessageDropped(host.Logger, message.Type.ToString(), PeerId, reason);
        }

        if (IsClientRequest(message))
        {
            // Dropped before any byte of it was written: certainly never delivered.
            host.OnRequestUndelivered(message);
        }
    }

    /// <summary>A client's request a follower forwards to its leader (a proposal or a read-index request).</summary>
    /// <summary>What a batch carries for <see cref="PutStageTrace"/>: the last entry appended and the highest index acked.</summary>
    private static void TraceBatched(Message message, ref ulong appended, ref ulong acked)
    {
        if (message.Type == MessageType.Append && !message.Entries.IsEmpty)
        {
            appended = Math.Max(appended, message.Entries[^1].Index);
        }
        else if (message.Type == MessageType.AppendResponse && !message.Reject)
        {
            acked = Math.Max(acked, message.Index);
        }
    }

    private static bool IsClientRequest(Message message) => message.Type is MessageType.Propose or MessageType.ReadIndex;

    private void SnapshotFailed(Message message, string reason)
    {
        counters.AddSnapshotFailed();
        host.Totals.AddSnapshotFailed();
        TransportLog.SnapshotSendFailed(host.Logger, message.Snapshot!.Metadata.Index, PeerId, reason);
        host.OnSnapshotFailed(PeerId, message, reason);
    }

    /// <summary>Opens the next queued snapshot for sending; one that cannot be opened is reported failed and skipped.</summary>
    private OutboundSnapshot? StartSnapshot()
    {
        while (pendingSnapshots.TryDequeue(out var next))
        {
            try
            {
                return OutboundSnapshot.Open(++nextTransferId, next, host.SnapshotFiles, host.Options.SnapshotChunkBytes);
            }
            catch (SnapshotUnavailableException e)
            {
                SnapshotFailed(next, e.Message);
            }
        }

        return null;
    }

    private static TaskCompletionSource NewRedialSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
