using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Hosting;
using Bulwark.Server.Transport;
using static Bulwark.Server.Tests.Transport.TransportHarness;

namespace Bulwark.Server.Tests.Transport;

/// <summary><see cref="TcpPeerTransport.PeerConnectionLost"/>: raised when a peer's process goes away, which its
/// peers see at once as a closed connection and refused redials.</summary>
public sealed class ConnectionLossSignalTests
{
    [Fact]
    public async Task A_peer_that_goes_away_is_reported_lost_and_its_refused_redials_again()
    {
        var b = Started(Options(2));
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = AddressOf(b) }));
        var lost = new ConcurrentQueue<ulong>();
        a.PeerConnectionLost += lost.Enqueue;
        a.Send(TestMessages.Heartbeat(1, 2, 1));
        await ReceiveAsync(b);
        Assert.Empty(lost); // a live connection reports nothing

        await b.DisposeAsync();

        // Once for the closed connection, then for each refused redial.
        await EventuallyAsync(() => lost.Count >= 2, "the closed connection and a refused redial reported");
        Assert.All(lost, id => Assert.Equal(2UL, id));
    }

    [Fact]
    public async Task A_peer_nobody_listens_for_is_reported_lost()
    {
        await using var a = Started(Options(1, peers: new Dictionary<ulong, string> { [2] = $"127.0.0.1:{LoopbackPorts.Next()}" }));
        var lost = new ConcurrentQueue<ulong>();
        a.PeerConnectionLost += lost.Enqueue;
        await EventuallyAsync(() => lost.Contains(2UL), "a refused dial reported");
    }

}
