using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Bulwark.Server.Transport;

/// <summary>
/// The joining member's side of <see cref="FrameKind.MemberQuery"/>: one short connection to a member's peer port, the
/// query, the reply, close. No handshake: the joiner does not know the cluster's id or its own yet.
/// </summary>
public static class MemberQueryClient
{
    /// <exception cref="IOException">The member could not be reached, closed without answering (it has no leader, or it
    /// is a build that does not know the query), or answered nonsense.</exception>
    /// <param name="tls">Peer TLS (null: plain TCP): the member's certificate must chain to the peer CA and name its host.</param>
    public static async Task<MemberQueryReplyFrame> AskAsync(string peerUrl, string askerPeerUrl, TimeSpan timeout, CancellationToken cancellationToken = default,
        Security.TlsCredentials? tls = null)
    {
        ArgumentNullException.ThrowIfNull(peerUrl);
        ArgumentNullException.ThrowIfNull(askerPeerUrl);
        var address = PeerAddress.Parse(peerUrl);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, deadline.Token).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls.ClientOptions(address.Host), deadline.Token).ConfigureAwait(false);
            }

            await using var streamScope = stream.ConfigureAwait(false);
            var writer = PipeWriter.Create(stream);
            FrameCodec.Write(writer, new MemberQueryFrame(askerPeerUrl), new ArrayBufferWriter<byte>(256));
            await writer.FlushAsync(deadline.Token).ConfigureAwait(false);
            var reader = PipeReader.Create(stream);
            while (true)
            {
                var result = await reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (FrameCodec.TryRead(ref buffer, FrameFormat.DefaultMaxFrameBytes, out var frame, out _))
                {
                    return frame as MemberQueryReplyFrame
                        ?? throw new IOException($"{peerUrl} answered the member query with a {frame!.Kind} frame");
                }

                if (result.IsCompleted)
                {
                    throw new IOException($"{peerUrl} closed the connection without answering (it has no leader now, or does not know the member query)");
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"{peerUrl} did not answer the member query within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is SocketException or WireFormatException or AuthenticationException)
        {
            throw new IOException($"{peerUrl}: {e.Message}", e);
        }
    }
}
