using Bulwark.Consensus;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Hosting;

/// <summary>Adapts <see cref="TcpPeerTransport"/> to the loop's <see cref="IPeerNetwork"/>.</summary>
internal sealed class TcpPeerNetwork(TcpPeerTransport transport) : IPeerNetwork
{
    public void Send(Message message) => transport.Send(message);

    public void AddPeer(ulong id, string peerUrl) => _ = transport.AddOrUpdatePeerAsync(id, peerUrl);

    public void RemovePeer(ulong id) => _ = transport.RemovePeerAsync(id);

    public int QueuedTo(ulong peer) => transport.QueuedTo(peer);
}
