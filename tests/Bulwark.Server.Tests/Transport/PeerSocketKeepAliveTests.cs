using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Tests.Transport;

/// <summary>Peer sockets probe idle connections, so a vanished peer's connection is reset instead of looking established.</summary>
public sealed class PeerSocketKeepAliveTests
{
    [Fact]
    public void Keepalive_is_enabled_with_the_configured_timings()
    {
        var options = new PeerTransportOptions
        {
            ClusterId = 1,
            LocalId = 1,
            ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            KeepAliveTime = TimeSpan.FromSeconds(3),
            KeepAliveInterval = TimeSpan.FromSeconds(2),
            KeepAliveProbes = 4,
        };
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        PeerSocketKeepAlive.Enable(socket, options);
        Assert.NotEqual(0, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!);
        Assert.Equal(2, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!);
        Assert.Equal(4, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!);
    }

    [Fact]
    public void Keepalive_timings_below_a_second_are_refused()
    {
        var options = new PeerTransportOptions { ClusterId = 1, LocalId = 1, ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0), KeepAliveTime = TimeSpan.FromMilliseconds(100) };
        Assert.Throws<ArgumentException>(options.Validate);
    }
}
