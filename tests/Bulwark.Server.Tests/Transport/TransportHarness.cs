using System.Net;
using Bulwark.Consensus;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Tests.Transport;

/// <summary>Builds transports on loopback with free ports and waits on them with generous (failure-only) deadlines.</summary>
internal static class TransportHarness
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    public static PeerTransportOptions Options(ulong id, int port = 0, ulong cluster = 0xC1, IReadOnlyDictionary<ulong, string>? peers = null) => new()
    {
        ClusterId = cluster,
        LocalId = id,
        ListenEndpoint = new IPEndPoint(IPAddress.Loopback, port),
        Peers = peers ?? new Dictionary<ulong, string>(),
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        JitterSeed = 7,
    };

    public static TcpPeerTransport Started(PeerTransportOptions options)
    {
        var transport = new TcpPeerTransport(options);
        transport.Start();
        return transport;
    }

    public static string AddressOf(TcpPeerTransport transport) => $"127.0.0.1:{transport.ListenEndpoint.Port}";

    public static async Task<Message> ReceiveAsync(TcpPeerTransport transport)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await transport.Incoming.ReadAsync(timeout.Token);
    }

    public static async Task<List<Message>> ReceiveAsync(TcpPeerTransport transport, int count)
    {
        var list = new List<Message>(count);
        using var timeout = new CancellationTokenSource(Patience);
        while (list.Count < count)
        {
            list.Add(await transport.Incoming.ReadAsync(timeout.Token));
        }

        return list;
    }

    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }
}
