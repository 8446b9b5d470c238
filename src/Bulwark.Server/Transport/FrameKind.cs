namespace Bulwark.Server.Transport;

/// <summary>What a frame on a peer connection carries.</summary>
public enum FrameKind : byte
{
    /// <summary>First frame of a connection, dialer to listener: cluster id, sender id, intended recipient id.</summary>
    Handshake = 1,

    /// <summary>Listener's answer to the handshake: accepted, or rejected with a reason.</summary>
    HandshakeAck = 2,

    /// <summary>One Raft message (never with snapshot data inline).</summary>
    Message = 3,

    /// <summary>Starts a snapshot transfer: transfer id, total data length and the InstallSnapshot message.</summary>
    SnapshotBegin = 4,

    /// <summary>A piece of snapshot data: transfer id, offset and bytes.</summary>
    SnapshotChunk = 5,

    /// <summary>Ends a snapshot transfer: transfer id and the CRC-32C of all its data, checked before it is kept.</summary>
    SnapshotEnd = 6,

    /// <summary>Abandons a snapshot transfer (the sender could not read its own file): the receiver discards it.</summary>
    SnapshotAbort = 7,

    /// <summary>
    /// First frame of a short connection from a member that joins a running cluster, instead of a handshake: "who is in
    /// this cluster?" (it does not know its own id or the cluster's yet). Added after version 1 shipped: a node that
    /// does not know it closes the connection (unknown kind), and the joiner asks another member.
    /// </summary>
    MemberQuery = 8,

    /// <summary>The answer to <see cref="MemberQuery"/>: cluster id, founding membership and the member list; then the
    /// listener closes the connection.</summary>
    MemberQueryReply = 9,
}
