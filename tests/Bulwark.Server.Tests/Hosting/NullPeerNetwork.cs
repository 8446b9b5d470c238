using Bulwark.Consensus;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>A peer network that delivers nothing: for hosts driven alone in a test (one node, or the apply side only).</summary>
internal sealed class NullPeerNetwork : IPeerNetwork
{
    public void Send(Message message)
    {
    }

    public void AddPeer(ulong id, string peerUrl)
    {
    }

    public void RemovePeer(ulong id)
    {
    }
}
