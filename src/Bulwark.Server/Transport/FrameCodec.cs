using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Bulwark.Server.Transport;

/// <summary>
/// Encodes and decodes whole frames (see <see cref="FrameFormat"/>). Decoding never trusts a length before checking
/// it against the frame bound and the bytes actually present, and reports every defect as a <see cref="WireFormatException"/>.
/// </summary>
public static class FrameCodec
{
    private const int MaxReasonBytes = 1024;

    /// <summary>
    /// Appends one frame to <paramref name="output"/> and returns the bytes written. The body is staged in
    /// <paramref name="scratch"/> (reused by the caller) because the length prefix precedes it.
    /// </summary>
    /// <exception cref="WireFormatException">The frame would exceed <paramref name="maxFrameBytes"/>; nothing is written.</exception>
    public static int Write(IBufferWriter<byte> output, Frame frame, ArrayBufferWriter<byte> scratch, int maxFrameBytes = FrameFormat.DefaultMaxFrameBytes)
    {
        ArgumentNullException.ThrowIfNull(frame);
        scratch.ResetWrittenCount();
        var body = new WireWriter(scratch);
        ReadOnlySpan<byte> tail = default;
        switch (frame)
        {
            case HandshakeFrame h:
                body.WriteUInt64(h.ClusterId);
                body.WriteUInt64(h.SenderId);
                body.WriteUInt64(h.RecipientId);
                break;
            case HandshakeAckFrame a:
                body.WriteByte(a.Accepted ? (byte)1 : (byte)0);
                var reason = Encoding.UTF8.GetBytes(a.Reason);
                body.WriteBytes(reason.AsSpan(0, Math.Min(reason.Length, MaxReasonBytes)));
                break;
            case MessageFrame m:
                if (m.Message.Snapshot is not null)
                {
                    throw new ArgumentException("a message with a snapshot must be streamed with SnapshotBegin and chunk frames", nameof(frame));
                }

                MessageCodec.Write(ref body, m.Message, withSnapshotMetadata: false);
                break;
            case SnapshotBeginFrame s:
                if (s.Message.Snapshot is null)
                {
                    throw new ArgumentException("SnapshotBegin needs a message with a snapshot", nameof(frame));
                }

                ArgumentOutOfRangeException.ThrowIfNegative(s.TotalBytes);
                body.WriteUInt64(s.TransferId);
                body.WriteVarint((ulong)s.TotalBytes);
                MessageCodec.Write(ref body, s.Message, withSnapshotMetadata: true);
                break;
            case SnapshotChunkFrame c:
                ArgumentOutOfRangeException.ThrowIfNegative(c.Offset);
                body.WriteUInt64(c.TransferId);
                body.WriteVarint((ulong)c.Offset);
                tail = c.Data.Span; // raw to the end of the frame: no copy through scratch
                break;
            case SnapshotEndFrame e:
                body.WriteUInt64(e.TransferId);
                body.WriteUInt32(e.DataCrc);
                break;
            case SnapshotAbortFrame a:
                body.WriteUInt64(a.TransferId);
                break;
            case MemberQueryFrame q:
                WriteText(ref body, q.AskerPeerUrl);
                break;
            case MemberQueryReplyFrame r:
                WriteMemberQueryReply(ref body, r);
                break;
            default:
                throw new ArgumentException($"unknown frame type {frame.GetType().Name}", nameof(frame));
        }

        var length = 2L + scratch.WrittenCount + tail.Length;
        if (length > maxFrameBytes)
        {
            throw new WireFormatException($"{frame.Kind} frame of {length} bytes exceeds the frame limit of {maxFrameBytes} bytes");
        }

        var header = output.GetSpan(FrameFormat.HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
        header[4] = FrameFormat.Version;
        header[5] = (byte)frame.Kind;
        output.Advance(FrameFormat.HeaderBytes);
        var writer = new WireWriter(output);
        writer.WriteRaw(scratch.WrittenSpan);
        writer.WriteRaw(tail);
        return FrameFormat.LengthPrefixBytes + (int)length;
    }

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="buffer"/>. Returns false (and leaves the buffer alone)
    /// when more bytes are needed. The decoded frame owns its bytes (copied out of <paramref name="buffer"/>).
    /// </summary>
    /// <exception cref="WireFormatException">The frame is malformed or its length exceeds <paramref name="maxFrameBytes"/>.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out Frame? frame, out int frameBytes)
    {
        frame = null;
        frameBytes = 0;
        if (buffer.Length < FrameFormat.LengthPrefixBytes)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[FrameFormat.LengthPrefixBytes];
        buffer.Slice(0, FrameFormat.LengthPrefixBytes).CopyTo(prefix);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length < 2)
        {
            throw new WireFormatException($"frame length {length} is too small to hold a version and a kind");
        }

        if (length > (uint)maxFrameBytes)
        {
            throw new WireFormatException($"frame length {length} exceeds the frame limit of {maxFrameBytes} bytes");
        }

        if (buffer.Length < FrameFormat.LengthPrefixBytes + length)
        {
            return false;
        }

        var bytes = buffer.Slice(FrameFormat.LengthPrefixBytes, length).ToArray();
        buffer = buffer.Slice(FrameFormat.LengthPrefixBytes + length);
        frameBytes = FrameFormat.LengthPrefixBytes + (int)length;
        frame = Decode(bytes);
        return true;
    }

    private static void WriteText(ref WireWriter body, string text) => body.WriteBytes(Encoding.UTF8.GetBytes(text));

    private static string ReadText(ref WireReader r, string field) => Encoding.UTF8.GetString(r.ReadBytes(field).Span);

    private static void WriteTexts(ref WireWriter body, IReadOnlyList<string> texts)
    {
        body.WriteVarint((ulong)texts.Count);
        foreach (var text in texts)
        {
            WriteText(ref body, text);
        }
    }

    private static string[] ReadTexts(ref WireReader r, string field)
    {
        var texts = new string[r.ReadCount(field, minItemBytes: 1)];
        for (var i = 0; i < texts.Length; i++)
        {
            texts[i] = ReadText(ref r, field);
        }

        return texts;
    }

    private static void WriteMemberQueryReply(ref WireWriter body, MemberQueryReplyFrame reply)
    {
        body.WriteUInt64(reply.ClusterId);
        body.WriteVarint((ulong)reply.FoundingVoters.Count);
        foreach (var id in reply.FoundingVoters)
        {
            body.WriteUInt64(id);
        }

        body.WriteVarint((ulong)reply.Members.Count);
        foreach (var member in reply.Members)
        {
            body.WriteUInt64(member.Id);
            WriteText(ref body, member.Name);
            body.WriteByte(member.IsLearner ? (byte)1 : (byte)0);
            WriteTexts(ref body, member.PeerUrls);
            WriteTexts(ref body, member.ClientUrls);
        }
    }

    private static MemberQueryReplyFrame ReadMemberQueryReply(ref WireReader r)
    {
        var clusterId = r.ReadUInt64("cluster id");
        var founding = new ulong[r.ReadCount("founding voters", minItemBytes: 8)];
        for (var i = 0; i < founding.Length; i++)
        {
            founding[i] = r.ReadUInt64("founding voter");
        }

        var members = new MemberInfo[r.ReadCount("members", minItemBytes: 12)];
        for (var i = 0; i < members.Length; i++)
        {
            var id = r.ReadUInt64("member id");
            var name = ReadText(ref r, "member name");
            var learner = r.ReadByte("member is learner") switch
            {
                0 => false,
                1 => true,
                var b => throw new WireFormatException($"member learner flag {b} is neither 0 nor 1"),
            };
            members[i] = new MemberInfo(id, name, learner, ReadTexts(ref r, "member peer urls"), ReadTexts(ref r, "member client urls"));
        }

        return new MemberQueryReplyFrame(clusterId, founding, members);
    }

    /// <summary>Decodes a frame given everything after its length prefix (version, kind, body).</summary>
    public static Frame Decode(ReadOnlyMemory<byte> versionKindAndBody)
    {
        if (versionKindAndBody.Length < 2)
        {
            throw new WireFormatException("frame too short to hold a version and a kind");
        }

        var span = versionKindAndBody.Span;
        if (span[0] != FrameFormat.Version)
        {
            throw new WireFormatException($"unsupported wire version {span[0]} (this node speaks version {FrameFormat.Version})");
        }

        var kind = (FrameKind)span[1];
        var r = new WireReader(versionKindAndBody[2..]);
        Frame frame;
        switch (kind)
        {
            case FrameKind.Handshake:
                frame = new HandshakeFrame(r.ReadUInt64("cluster id"), r.ReadUInt64("sender id"), r.ReadUInt64("recipient id"));
                break;
            case FrameKind.HandshakeAck:
                var accepted = r.ReadByte("accepted") switch
                {
                    0 => false,
                    1 => true,
                    var b => throw new WireFormatException($"handshake ack flag {b} is neither 0 nor 1"),
                };
                frame = new HandshakeAckFrame(accepted, Encoding.UTF8.GetString(r.ReadBytes("reason").Span));
                break;
            case FrameKind.Message when versionKindAndBody.Length > 2 && !Enum.IsDefined((Bulwark.Consensus.MessageType)span[2]):
                // A newer member's message type: the frame's length delimits it, so it is skipped whole (its body is
                // not ours to judge), and the connection carries on with the next frame.
                return new UnknownMessageFrame(span[2]);
            case FrameKind.Message:
                frame = new MessageFrame(MessageCodec.Read(ref r, expectSnapshot: false));
                break;
            case FrameKind.SnapshotBegin:
                var transferId = r.ReadUInt64("transfer id");
                var total = r.ReadVarint("snapshot total bytes");
                if (total > long.MaxValue)
                {
                    throw new WireFormatException($"snapshot total of {total} bytes is out of range");
                }

                frame = new SnapshotBeginFrame(transferId, (long)total, MessageCodec.Read(ref r, expectSnapshot: true));
                break;
            case FrameKind.SnapshotChunk:
                var chunkTransfer = r.ReadUInt64("transfer id");
                var offset = r.ReadVarint("chunk offset");
                if (offset > long.MaxValue)
                {
                    throw new WireFormatException($"snapshot chunk offset {offset} is out of range");
                }

                frame = new SnapshotChunkFrame(chunkTransfer, (long)offset, r.ReadRest());
                break;
            case FrameKind.SnapshotEnd:
                frame = new SnapshotEndFrame(r.ReadUInt64("transfer id"), r.ReadUInt32("snapshot data crc"));
                break;
            case FrameKind.SnapshotAbort:
                frame = new SnapshotAbortFrame(r.ReadUInt64("transfer id"));
                break;
            case FrameKind.MemberQuery:
                frame = new MemberQueryFrame(ReadText(ref r, "asker peer url"));
                break;
            case FrameKind.MemberQueryReply:
                frame = ReadMemberQueryReply(ref r);
                break;
            default:
                throw new WireFormatException($"unknown frame kind {span[1]}");
        }

        r.ExpectEnd(kind.ToString());
        return frame;
    }
}
