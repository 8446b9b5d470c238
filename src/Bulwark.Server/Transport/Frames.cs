using Bulwark.Consensus;

namespace Bulwark.Server.Transport;

/// <summary>One unit on a peer connection. See <see cref="FrameKind"/> for what each carries.</summary>
public abstract record Frame
{
    public abstract FrameKind Kind { get; }
}

/// <summary>Dialer's greeting: which cluster it belongs to, who it is, and whom it believes it is calling.</summary>
public sealed record HandshakeFrame(ulong ClusterId, ulong SenderId, ulong RecipientId) : Frame
{
    public override FrameKind Kind => FrameKind.Handshake;
}

/// <summary>Listener's answer; a rejection says why (e.g. a different cluster id) and the connection is closed.</summary>
public sealed record HandshakeAckFrame(bool Accepted, string Reason) : Frame
{
    public override FrameKind Kind => FrameKind.HandshakeAck;
}

/// <summary>An ordinary Raft message. Never carries a snapshot: those go as <see cref="SnapshotBeginFrame"/> plus chunks.</summary>
public sealed record MessageFrame(Message Message) : Frame
{
    public override FrameKind Kind => FrameKind.Message;
}

/// <summary>
/// A message frame whose message type this build does not know (a newer member's): well-formed as a frame, so the
/// connection stays up and only the message is dropped. Added together with the no-progress report (type 13); a member
/// built before that closes the connection on an unknown type instead (docs/consensus.md, "Gray failures").
/// </summary>
public sealed record UnknownMessageFrame(byte MessageType) : Frame
{
    public override FrameKind Kind => FrameKind.Message;
}

/// <summary>
/// Opens a snapshot transfer. <see cref="Message"/> carries the snapshot metadata; its data is sent after this frame in
/// <see cref="SnapshotChunkFrame"/>s totalling <see cref="TotalBytes"/> (no limit but the receiver's disk), then a
/// <see cref="SnapshotEndFrame"/>.
/// </summary>
public sealed record SnapshotBeginFrame(ulong TransferId, long TotalBytes, Message Message) : Frame
{
    public override FrameKind Kind => FrameKind.SnapshotBegin;
}

/// <summary>Bytes [Offset, Offset + Data.Length) of a snapshot transfer's data.</summary>
public sealed record SnapshotChunkFrame(ulong TransferId, long Offset, ReadOnlyMemory<byte> Data) : Frame
{
    public override FrameKind Kind => FrameKind.SnapshotChunk;
}

/// <summary>The sender gives up a snapshot transfer half-way; the receiver discards what it stored of it.</summary>
public sealed record SnapshotAbortFrame(ulong TransferId) : Frame
{
    public override FrameKind Kind => FrameKind.SnapshotAbort;
}

/// <summary>Closes a snapshot transfer once all its data was sent: the CRC-32C (Castagnoli) of that data.</summary>
public sealed record SnapshotEndFrame(ulong TransferId, uint DataCrc) : Frame
{
    public override FrameKind Kind => FrameKind.SnapshotEnd;
}

/// <summary>A joining member asks who is in the cluster (see <see cref="FrameKind.MemberQuery"/>); it names its own peer URL.</summary>
public sealed record MemberQueryFrame(string AskerPeerUrl) : Frame
{
    public override FrameKind Kind => FrameKind.MemberQuery;
}

/// <summary>One member as a <see cref="MemberQueryReplyFrame"/> lists it.</summary>
public sealed record MemberInfo(ulong Id, string Name, bool IsLearner, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls);

/// <summary>
/// Who is in the cluster: its id, the voters it was founded with (the membership at log index 0, from which a new
/// member's log starts) and every current member.
/// </summary>
public sealed record MemberQueryReplyFrame(ulong ClusterId, IReadOnlyList<ulong> FoundingVoters, IReadOnlyList<MemberInfo> Members) : Frame
{
    public override FrameKind Kind => FrameKind.MemberQueryReply;
}
