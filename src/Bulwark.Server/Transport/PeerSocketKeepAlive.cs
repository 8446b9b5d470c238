using System.Net.Sockets;

namespace Bulwark.Server.Transport;

/// <summary>
/// TCP keepalive on peer connections. A follower's connection to a fellow follower carries no messages in a healthy
/// cluster, so without probes a peer that vanished without closing (power loss, a partition) would leave it looking
/// established for hours; with them the kernel resets it after <see cref="PeerTransportOptions.KeepAliveTime"/> plus
/// <see cref="PeerTransportOptions.KeepAliveProbes"/> unanswered probes, and the sender reports the peer unreachable.
/// </summary>
internal static class PeerSocketKeepAlive
{
    public static void Enable(Socket socket, PeerTransportOptions options)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Seconds(options.KeepAliveTime));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Seconds(options.KeepAliveInterval));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.KeepAliveProbes);
    }

    private static int Seconds(TimeSpan span) => Math.Max(1, (int)Math.Ceiling(span.TotalSeconds));
}
