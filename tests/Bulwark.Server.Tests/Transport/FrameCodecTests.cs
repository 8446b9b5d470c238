using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using Bulwark.Consensus;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Tests.Transport;

public sealed class FrameCodecTests
{
    private static byte[] Encode(Frame frame, int max = FrameFormat.DefaultMaxFrameBytes)
    {
        var output = new ArrayBufferWriter<byte>();
        var written = FrameCodec.Write(output, frame, new ArrayBufferWriter<byte>(), max);
        Assert.Equal(output.WrittenCount, written);
        return output.WrittenSpan.ToArray();
    }

    private static Frame DecodeOne(byte[] bytes, int max = FrameFormat.DefaultMaxFrameBytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameCodec.TryRead(ref buffer, max, out var frame, out var frameBytes));
        Assert.Equal(bytes.Length, frameBytes);
        Assert.True(buffer.IsEmpty);
        return frame!;
    }

    public static TheoryData<int> MessageTypes()
    {
        var data = new TheoryData<int>();
        foreach (var t in Enum.GetValues<MessageType>())
        {
            data.Add((int)t);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Every_message_type_round_trips_with_every_field(int type)
    {
        var message = new Message
        {
            Type = (MessageType)type,
            From = ulong.MaxValue,
            To = 2,
            Term = 1UL << 40,
            LogTerm = 127,
            Index = 128,
            Commit = 300,
            Reject = true,
            RejectHint = 16384,
            Context = new byte[] { 1, 2, 3 },
            Entries = ImmutableArray.Create(
                new Entry(5, 129, EntryType.Normal, ReadOnlyMemory<byte>.Empty),
                new Entry(5, 130, EntryType.ConfigChange, new ConfigChange(ConfigChangeType.AddLearner, 7, new byte[] { 9 }).Encode()),
                new Entry(6, 131, EntryType.Normal, TestMessages.Pattern(5000, 1))),
        };

        var decoded = Assert.IsType<MessageFrame>(DecodeOne(Encode(new MessageFrame(message))));
        TestMessages.AssertSame(message, decoded.Message);
    }

    [Fact]
    public void A_default_heartbeat_is_compact()
    {
        var bytes = Encode(new MessageFrame(TestMessages.Heartbeat(1, 2, 3, 4)));
        Assert.True(bytes.Length <= 24, $"heartbeat frame took {bytes.Length} bytes");
    }

    [Fact]
    public void Handshake_and_ack_round_trip()
    {
        Assert.Equal(new HandshakeFrame(0xABCDEF, 1, 2), DecodeOne(Encode(new HandshakeFrame(0xABCDEF, 1, 2))));
        Assert.Equal(new HandshakeAckFrame(false, "cluster id mismatch"), DecodeOne(Encode(new HandshakeAckFrame(false, "cluster id mismatch"))));
    }

    [Fact]
    public void Snapshot_begin_carries_metadata_and_config_but_not_data()
    {
        var message = TestMessages.InstallSnapshot(1, 2, TestMessages.Pattern(100_000, 2));
        var bytes = Encode(new SnapshotBeginFrame(77, 100_000, message));
        Assert.True(bytes.Length < 200, "snapshot data must not travel in the begin frame");
        var begin = Assert.IsType<SnapshotBeginFrame>(DecodeOne(bytes));
        Assert.Equal(77UL, begin.TransferId);
        Assert.Equal(100_000, begin.TotalBytes);
        Assert.Equal(message.Snapshot!.Metadata, begin.Message.Snapshot!.Metadata);
        Assert.True(begin.Message.Snapshot.Data.IsEmpty);
    }

    [Fact]
    public void A_message_with_a_snapshot_cannot_be_sent_as_a_plain_frame()
    {
        var message = TestMessages.InstallSnapshot(1, 2, [1, 2, 3]);
        var e = Assert.Throws<ArgumentException>(() => Encode(new MessageFrame(message)));
        Assert.Contains("streamed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_end_and_abort_round_trip()
    {
        Assert.Equal(new SnapshotEndFrame(5, 0xDEADBEEF), DecodeOne(Encode(new SnapshotEndFrame(5, 0xDEADBEEF))));
        Assert.Equal(new SnapshotAbortFrame(6), DecodeOne(Encode(new SnapshotAbortFrame(6))));
    }

    [Fact]
    public void A_snapshot_total_beyond_four_GiB_is_accepted_on_the_wire()
    {
        var message = TestMessages.InstallSnapshot(1, 2, []);
        var begin = Assert.IsType<SnapshotBeginFrame>(DecodeOne(Encode(new SnapshotBeginFrame(1, 5L << 30, message))));
        Assert.Equal(5L << 30, begin.TotalBytes);
        var chunk = Assert.IsType<SnapshotChunkFrame>(DecodeOne(Encode(new SnapshotChunkFrame(1, 4L << 30, new byte[] { 1 }))));
        Assert.Equal(4L << 30, chunk.Offset);
    }

    [Fact]
    public void Chunks_reassemble_into_one_snapshot_message()
    {
        var data = TestMessages.Pattern(2_500_000, 3);
        var message = TestMessages.InstallSnapshot(1, 2, data);
        using var reception = new SnapshotReception(null);
        reception.Begin(new SnapshotBeginFrame(5, data.Length, message with { Snapshot = message.Snapshot! with { Data = default } }));
        for (var offset = 0; offset < data.Length; offset += 1 << 20)
        {
            reception.Add((SnapshotChunkFrame)DecodeOne(Encode(new SnapshotChunkFrame(5, offset, data.AsMemory(offset, Math.Min(1 << 20, data.Length - offset))))));
        }

        var done = reception.End(new SnapshotEndFrame(5, Bulwark.Storage.Crc32C.Compute(data)));
        Assert.NotNull(done);
        TestMessages.AssertSame(message, done);
        Assert.False(reception.InProgress);
    }

    [Fact]
    public void An_empty_snapshot_completes_at_its_end_frame()
    {
        using var reception = new SnapshotReception(null);
        reception.Begin(new SnapshotBeginFrame(1, 0, TestMessages.InstallSnapshot(1, 2, [])));
        var done = reception.End(new SnapshotEndFrame(1, Bulwark.Storage.Crc32C.Compute([])));
        Assert.NotNull(done);
        Assert.True(done.Snapshot!.Data.IsEmpty);
    }

    [Fact]
    public void Reception_rejects_out_of_order_overlong_unknown_short_and_damaged_transfers()
    {
        var message = TestMessages.InstallSnapshot(1, 2, []);
        using var reception = new SnapshotReception(null);
        Assert.Contains("never begun", Assert.Throws<WireFormatException>(() => reception.Add(new SnapshotChunkFrame(9, 0, new byte[1]))).Message, StringComparison.Ordinal);
        reception.Begin(new SnapshotBeginFrame(1, 10, message));
        Assert.Contains("offset 4", Assert.Throws<WireFormatException>(() => reception.Add(new SnapshotChunkFrame(1, 4, new byte[1]))).Message, StringComparison.Ordinal);
        Assert.Contains("past the announced total", Assert.Throws<WireFormatException>(() => reception.Add(new SnapshotChunkFrame(1, 0, new byte[11]))).Message, StringComparison.Ordinal);
        reception.Add(new SnapshotChunkFrame(1, 0, new byte[4]));
        Assert.Contains("after 4 of its 10 bytes", Assert.Throws<WireFormatException>(() => reception.End(new SnapshotEndFrame(1, 0))).Message, StringComparison.Ordinal);
        reception.Add(new SnapshotChunkFrame(1, 4, new byte[6]));
        Assert.Contains("checksum mismatch", Assert.Throws<WireFormatException>(() => reception.End(new SnapshotEndFrame(1, Bulwark.Storage.Crc32C.Compute(new byte[10]) ^ 1))).Message, StringComparison.Ordinal);
        reception.Abort(new SnapshotAbortFrame(1));
        Assert.False(reception.InProgress);
    }

    [Fact]
    public void A_bogus_snapshot_total_does_not_allocate_it()
    {
        var message = TestMessages.InstallSnapshot(1, 2, []);
        var before = GC.GetAllocatedBytesForCurrentThread();
        using var reception = new SnapshotReception(null);
        reception.Begin(new SnapshotBeginFrame(1, long.MaxValue, message));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4L << 20, "the reception allocated for a size that never arrived");
    }

    [Fact]
    public void Partial_frames_wait_for_more_bytes()
    {
        var bytes = Encode(new MessageFrame(TestMessages.Append(1, 2, 10, "a", "b")));
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, cut);
            Assert.False(FrameCodec.TryRead(ref buffer, 1 << 20, out _, out _));
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void Several_frames_in_one_buffer_read_one_at_a_time()
    {
        var a = Encode(new MessageFrame(TestMessages.Heartbeat(1, 2, 1)));
        var b = Encode(new MessageFrame(TestMessages.Append(1, 2, 5, "x")));
        var buffer = new ReadOnlySequence<byte>([.. a, .. b]);
        Assert.True(FrameCodec.TryRead(ref buffer, 1 << 20, out var first, out _));
        Assert.True(FrameCodec.TryRead(ref buffer, 1 << 20, out var second, out _));
        Assert.Equal(MessageType.Heartbeat, ((MessageFrame)first!).Message.Type);
        Assert.Equal(MessageType.Append, ((MessageFrame)second!).Message.Type);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_length_over_the_bound_is_rejected_before_reading_the_body()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, uint.MaxValue);
        var buffer = new ReadOnlySequence<byte>(bytes);
        var e = Assert.Throws<WireFormatException>(() => FrameCodec.TryRead(ref buffer, 1 << 20, out _, out _));
        Assert.Contains("exceeds the frame limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_outbound_frame_is_refused_and_nothing_is_written()
    {
        var output = new ArrayBufferWriter<byte>();
        var message = TestMessages.Append(1, 2, 1, new string('x', 5000));
        var e = Assert.Throws<WireFormatException>(() => FrameCodec.Write(output, new MessageFrame(message), new ArrayBufferWriter<byte>(), 1024));
        Assert.Contains("exceeds the frame limit of 1024", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData(new byte[] { 2, 3 }, "unsupported wire version 2")]
    [InlineData(new byte[] { 1, 99 }, "unknown frame kind 99")]
    [InlineData(new byte[] { 1 }, "too short")]
    [InlineData(new byte[] { 1, 1, 0, 0 }, "truncated while reading cluster id")]
    [InlineData(new byte[] { 1, 3, 6, 0x80 }, "unknown message flags")]
    [InlineData(new byte[] { 1, 3, 6, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0 }, "snapshot metadata in a plain message frame")]
    [InlineData(new byte[] { 1, 3, 6, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, "overflows")]
    [InlineData(new byte[] { 1, 3, 6, 0, 1, 2, 0, 0, 0, 0, 0, 200, 1 }, "context claims 200 bytes")]
    [InlineData(new byte[] { 1, 3, 6, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x0F }, "entry count is")]
    [InlineData(new byte[] { 1, 3, 6, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 7, 1, 1, 0 }, "entry 0 has unknown type 7")]
    [InlineData(new byte[] { 1, 3, 6, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 5 }, "trailing bytes")]
    [InlineData(new byte[] { 1, 2, 5, 0 }, "neither 0 nor 1")]
    public void Malformed_bodies_are_rejected_with_a_clear_error(byte[] versionKindAndBody, string expected)
    {
        var e = Assert.Throws<WireFormatException>(() => FrameCodec.Decode(versionKindAndBody));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_of_an_unknown_type_is_skipped_whole_not_fatal()
    {
        // A newer member's message type (say a future one after NoProgressReport = 13): the frame is well-formed, so it
        // decodes as an UnknownMessageFrame whatever its body holds, and the connection goes on. Every type this build
        // knows still decodes (and is checked) as before.
        var skipped = Assert.IsType<UnknownMessageFrame>(FrameCodec.Decode(new byte[] { 1, 3, 42, 0 }));
        Assert.Equal(42, skipped.MessageType);
        Assert.IsType<UnknownMessageFrame>(FrameCodec.Decode(new byte[] { 1, 3, 200, 0xFF, 0xFF }));
        // Only plain message frames: a snapshot transfer of an unknown type is still malformed.
        var e = Assert.Throws<WireFormatException>(() => FrameCodec.Decode(new byte[] { 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 2 }));
        Assert.Contains("unknown message type 42", e.Message, StringComparison.Ordinal);
        Assert.IsType<MessageFrame>(DecodeOne(Encode(new MessageFrame(TestMessages.Heartbeat(1, 2, 3, 4) with { Type = MessageType.NoProgressReport }))));
    }

    [Fact]
    public void Every_truncation_of_a_valid_frame_is_rejected_not_crashed()
    {
        var message = TestMessages.InstallSnapshot(1, 2, []) with { Entries = TestMessages.Append(1, 2, 1, "abc", "defgh").Entries, Context = new byte[] { 4, 5 } };
        var full = Encode(new SnapshotBeginFrame(3, 10, message));
        var body = full.AsSpan(FrameFormat.LengthPrefixBytes).ToArray();
        for (var cut = 0; cut < body.Length; cut++)
        {
            var truncated = body.AsMemory(0, cut);
            Assert.Throws<WireFormatException>(() => FrameCodec.Decode(truncated));
        }
    }

    [Fact]
    public void Random_garbage_never_escapes_as_anything_but_a_wire_format_error()
    {
        var random = new Random(42);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (bytes.Length >= 2)
            {
                bytes[0] = FrameFormat.Version;
                bytes[1] = (byte)random.Next(1, 6);
            }

            try
            {
                FrameCodec.Decode(bytes);
            }
            catch (WireFormatException)
            {
                // expected for nearly all inputs
            }
        }
    }
}
