using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Bulwark.Consensus;
using Bulwark.Server.Observability;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Transport;

/// <summary>
/// Serves one accepted peer connection: checks the handshake, then decodes frames and hands complete messages to the
/// transport's incoming channel (a snapshot once all of it is stored, see <see cref="SnapshotReception"/>), calling
/// <paramref name="queued"/> after each one so the consumer can be woken directly (no pump thread in between). Any
/// malformed data, or a snapshot this node cannot store, closes the connection. With peer TLS the connection is
/// refused unless the TLS handshake succeeds first (<see cref="PeerTransportOptions.Tls"/>); a refusal is reported to
/// <paramref name="refused"/> (remote address, reason) so the member journals it. <paramref name="accepted"/> hears of
/// each peer whose handshake was accepted: a peer that dials in is up, whatever this node's own dialing to it believes.
/// </summary>
internal sealed class InboundConnection(
    Socket socket,
    PeerTransportOptions options,
    ISnapshotFiles? snapshotFiles,
    ChannelWriter<Message> incoming,
    Action<Message> queued,
    TransportCounters totals,
    ILogger logger,
    Action<string, string> refused,
    Action<ulong>? accepted = null)
{
    private readonly string remote = socket.RemoteEndPoint?.ToString() ?? "unknown";
    private readonly ArrayBufferWriter<byte> scratch = new(256);
    private ulong sender;

    /// <summary>The peer on the other end once its handshake was accepted (0 before).</summary>
    public ulong Sender => Volatile.Read(ref sender);

    /// <summary>Closes the connection (its member was removed): the read loop ends and the peer sees the close.</summary>
    public void Close()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (options.Tls is { } tls)
        {
            var secured = await SecureAsync(stream, tls, ct).ConfigureAwait(false);
            if (secured is null)
            {
                return;
            }

            stream = secured;
        }

        await using var streamScope = stream.ConfigureAwait(false);
        var reader = PipeReader.Create(stream);
        var writer = PipeWriter.Create(stream);
        using var snapshots = new SnapshotReception(snapshotFiles);
        try
        {
            using (var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                handshakeTimeout.CancelAfter(options.HandshakeTimeout);
                var first = await ReadFrameAsync(reader, handshakeTimeout.Token).ConfigureAwait(false);
                if (first is MemberQueryFrame query)
                {
                    await AnswerMemberQueryAsync(writer, query, handshakeTimeout.Token).ConfigureAwait(false);
                    return;
                }

                if (first is not HandshakeFrame handshake)
                {
                    TransportLog.InboundRejected(logger, remote, first is null ? "closed before the handshake" : $"first frame was {first.Kind}, not a handshake");
                    return;
                }

                var refusal = Check(handshake);
                FrameCodec.Write(writer, new HandshakeAckFrame(refusal is null, refusal ?? ""), scratch, options.MaxFrameBytes);
                await writer.FlushAsync(handshakeTimeout.Token).ConfigureAwait(false);
                if (refusal is not null)
                {
                    totals.AddHandshakeRejected();
                    TransportLog.InboundRejected(logger, remote, refusal);
                    refused(remote, refusal);
                    return;
                }

                Volatile.Write(ref sender, handshake.SenderId);
                accepted?.Invoke(handshake.SenderId);
            }

            while (await ReadFrameAsync(reader, ct).ConfigureAwait(false) is { } frame)
            {
                Message? message = null;
                switch (frame)
                {
                    case MessageFrame m:
                        message = m.Message;
                        break;
                    case UnknownMessageFrame u:
                        TransportLog.UnknownMessageSkipped(logger, u.MessageType, sender);
                        break;
                    case SnapshotBeginFrame b:
                        CheckAddressing(b.Message, sender);
                        snapshots.Begin(b);
                        break;
                    case SnapshotChunkFrame c:
                        snapshots.Add(c);
                        break;
                    case SnapshotEndFrame e:
                        message = snapshots.End(e);
                        break;
                    case SnapshotAbortFrame a:
                        snapshots.Abort(a);
                        break;
                    default:
                        throw new WireFormatException($"unexpected {frame.Kind} frame after the handshake");
                }

                if (message is null)
                {
                    continue;
                }

                CheckAddressing(message, sender);
                if (PutStageTrace.Enabled)
                {
                    PutStageTrace.Received(message);
                }

                if (message.Snapshot is not null)
                {
                    totals.AddSnapshotReceived();
                    TransportLog.SnapshotReceived(logger, message.Snapshot.Metadata.Index, snapshots.LastCompletedBytes, sender);
                }

                totals.AddReceived(1, 0);
                await incoming.WriteAsync(message, ct).ConfigureAwait(false); // waits for room when the reader is behind
                queued(message);
            }
        }
        catch (WireFormatException e)
        {
            TransportLog.InboundMalformed(logger, sender, e.Message);
        }
        catch (SnapshotRefusedException e)
        {
            // Closing tells the sender at once; its host reports the snapshot failed and Raft sends one again later.
            totals.AddSnapshotFailed();
            TransportLog.SnapshotRefused(logger, sender, e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            // the peer went away, or we are shutting down: the dialer reconnects if it still wants to talk
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The server side of the TLS handshake, within the handshake timeout: the secured stream, or null (the connection
    /// closed, refused and journalled) when the dialler offered no TLS, no certificate though one is required, or one
    /// the peer CA did not sign.
    /// </summary>
    private async Task<Stream?> SecureAsync(Stream plain, Security.TlsCredentials tls, CancellationToken ct)
    {
        var ssl = new SslStream(plain, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(tls.ServerOptions(), timeout.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (ct.IsCancellationRequested)
            {
                return null; // shutting down
            }

            var reason = e is OperationCanceledException
                ? "TLS handshake timed out"
                : $"TLS handshake failed: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}";
            totals.AddHandshakeRejected();
            TransportLog.InboundRejected(logger, remote, reason);
            refused(remote, reason);
            return null;
        }
    }

    private void CheckAddressing(Message message, ulong sender)
    {
        if (message.From != sender || message.To != options.LocalId)
        {
            throw new WireFormatException($"message {message.From:x}->{message.To:x} on a connection from {sender:x} to {options.LocalId:x}");
        }
    }

    /// <summary>A joining member asks who is in the cluster: answered, then the connection closes.</summary>
    private async Task AnswerMemberQueryAsync(PipeWriter writer, MemberQueryFrame query, CancellationToken ct)
    {
        if (options.AnswerMemberQuery?.Invoke() is not { } reply)
        {
            TransportLog.InboundRejected(logger, remote, $"member query from {query.AskerPeerUrl} not answered: this node cannot answer it yet");
            return;
        }

        FrameCodec.Write(writer, reply, scratch, options.MaxFrameBytes);
        await writer.FlushAsync(ct).ConfigureAwait(false);
        TransportLog.MemberQueryAnswered(logger, query.AskerPeerUrl, reply.Members.Count);
    }

    private string? Check(HandshakeFrame handshake)
    {
        if (options.IsRemovedMember?.Invoke(handshake.SenderId) == true)
        {
            return PeerTransportOptions.RemovedMemberRefusal;
        }

        if (handshake.ClusterId != options.ClusterId)
        {
            return $"cluster id mismatch: this node belongs to cluster {options.ClusterId:x}, the dialer to {handshake.ClusterId:x}";
        }

        if (handshake.RecipientId != options.LocalId)
        {
            return $"the dialer expected node {handshake.RecipientId:x} at this address, but this is node {options.LocalId:x}";
        }

        if (handshake.SenderId == 0 || handshake.SenderId == options.LocalId)
        {
            return $"invalid sender id {handshake.SenderId:x}";
        }

        return null;
    }

    /// <summary>Reads one frame, or null when the peer closed the connection cleanly between frames.</summary>
    private async Task<Frame?> ReadFrameAsync(PipeReader reader, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            Frame? frame;
            int frameBytes;
            try
            {
                if (!FrameCodec.TryRead(ref buffer, options.MaxFrameBytes, out frame, out frameBytes))
                {
                    if (result.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            throw new WireFormatException($"connection closed inside a frame ({buffer.Length} bytes of it arrived)");
                        }

                        reader.AdvanceTo(buffer.End);
                        return null;
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }
            }
            catch (WireFormatException)
            {
                reader.AdvanceTo(result.Buffer.End);
                throw;
            }

            reader.AdvanceTo(buffer.Start);
            totals.AddReceived(0, frameBytes);
            return frame;
        }
    }
}
