using Bulwark.Consensus;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Observability;

/// <summary>Tells the observer about every message the loop sends (heartbeat send times give round trips), then sends it.</summary>
public sealed class ObservedPeerNetwork(IPeerNetwork inner, INodeObserver observer) : IPeerNetwork
{
    /// <summary><paramref name="inner"/> itself when there is no observer.</summary>
    public static IPeerNetwork Wrap(IPeerNetwork inner, INodeObserver? observer) => observer is null ? inner : new ObservedPeerNetwork(inner, observer);

    public void Send(Message message)
    {
        observer.MessageSent(message);
        inner.Send(message);
    }

    public void AddPeer(ulong id, string peerUrl) => inner.AddPeer(id, peerUrl);

    public void RemovePeer(ulong id) => inner.RemovePeer(id);

    public int QueuedTo(ulong peer) => inner.QueuedTo(peer);
}
