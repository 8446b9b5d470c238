using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Test fault: drops the outgoing peer messages <see cref="NodeHostOptions.DropPeerMessage"/> picks, as a lossy network
/// would (Raft must recover from it), so a test can make one follower fall behind while it stays up.
/// </summary>
internal sealed class LossyPeerNetwork(IPeerNetwork inner, Func<Message, bool> drop) : IPeerNetwork
{
    public static IPeerNetwork Wrap(IPeerNetwork inner, Func<Message, bool>? drop) => drop is null ? inner : new LossyPeerNetwork(inner, drop);

    public void Send(Message message)
    {
        if (!drop(message))
        {
            inner.Send(message);
        }
    }

    public void AddPeer(ulong id, string peerUrl) => inner.AddPeer(id, peerUrl);

    public void RemovePeer(ulong id) => inner.RemovePeer(id);

    public int QueuedTo(ulong peer) => inner.QueuedTo(peer);
}
