using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>How the node loop sends Raft messages. Never blocks; a message that cannot be queued is dropped (Raft retries).</summary>
public interface IPeerNetwork
{
    void Send(Message message);

    /// <summary>Learn (or update) where a member listens, after a membership change.</summary>
    void AddPeer(ulong id, string peerUrl);

    void RemovePeer(ulong id);

    /// <summary>
    /// Messages waiting to be written to <paramref name="peer"/> (0 when unknown). The leader's health monitor watches
    /// it: a queue that grows towards every follower at once is the leader's own outbound path failing.
    /// </summary>
    int QueuedTo(ulong peer) => 0;
}
