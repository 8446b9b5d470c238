namespace Bulwark.Server.Hosting;

/// <summary>
/// This member is no longer part of the cluster: it applied its own removal, or a peer turned its connection away as
/// coming from a removed member. The node stops serving (etcd: "the member has been permanently removed from the
/// cluster"); `bulwark serve` exits with its own code so a supervisor does not restart it.
/// </summary>
public sealed class MemberRemovedException(ulong nodeId, string how)
    : Exception($"the member has been permanently removed from the cluster ({how})")
{
    /// <summary>The reason a peer gives when it refuses a removed member's handshake (matched by the dialer).</summary>
    public const string PeerRefusal = Transport.PeerTransportOptions.RemovedMemberRefusal;

    public ulong NodeId { get; } = nodeId;

    /// <summary>How this member learned it.</summary>
    public string How { get; } = how;
}
