using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>How the node loop sends Raft messages. Never blocks; a message that cannot be queued is dropped (Raft retries).</summary>
public interface IPeerNetwork
{
    void Send(Message message);

    /// <summary>Learn (or update) where a member listens, after a membership change.</summary>
    void AddPeer(ulong id, string peerUrl);

    void RemovePeer(ulong id);
}
