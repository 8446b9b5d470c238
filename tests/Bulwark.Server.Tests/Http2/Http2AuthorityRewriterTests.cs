using Bulwark.Server.Api.Http2;
using static Bulwark.Server.Tests.Http2.Http2TestFrames;

namespace Bulwark.Server.Tests.Http2;

public sealed class Http2AuthorityRewriterTests
{
    [Theory]
    [InlineData("http://127.0.0.1:2379", "127.0.0.1:2379")]
    [InlineData("https://node-1.example:2379/some/path", "node-1.example:2379")]
    [InlineData("unix://socket?x", "socket")]
    [InlineData("127.0.0.1:2379", null)]
    [InlineData("http://", null)]
    [InlineData("://host", null)]
    public void BareAuthority(string value, string? expected)
    {
        var bare = HpackAuthorityScanner.BareAuthority(System.Text.Encoding.Latin1.GetBytes(value));
        Assert.Equal(expected, bare is null ? null : System.Text.Encoding.Latin1.GetString(bare));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PlainAuthorityBlocksPassThroughUnchanged(bool huffman)
    {
        var rewriter = new Http2AuthorityRewriter();
        Assert.Null(rewriter.Process(Headers(1, GrpcRequestBlock("127.0.0.1:2379", "/etcdserverpb.KV/Put", huffman))));
        Assert.Null(rewriter.Process(Headers(3, Concat(Indexed(3), Indexed(6), Indexed(62 + 4), Indexed(62 + 3)))));
        Assert.Equal(0, rewriter.Rewritten);
        Assert.False(rewriter.Disabled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UrlAuthorityIsRewrittenAcrossDynamicTableReferences(bool huffman)
    {
        var rewriter = new Http2AuthorityRewriter();
        var kestrel = new HpackDecoder();

        var first = rewriter.Process(Headers(1, GrpcRequestBlock("http://127.0.0.1:2379", "/etcdserverpb.Maintenance/Status", huffman)));
        var firstFields = kestrel.Decode(Assert.Single(Split(first!)).Payload);
        Assert.Equal("127.0.0.1:2379", Value(firstFields, ":authority"));
        Assert.Equal("/etcdserverpb.Maintenance/Status", Value(firstFields, ":path"));
        Assert.Equal("grpc-go/1.26.0", Value(firstFields, "user-agent"));
        Assert.Equal(7, firstFields.Count);

        // The rewritten literal kept its incremental indexing: Kestrel's table has the client's five entries, the
        // :authority one bare.
        Assert.Equal(5, kestrel.TableCount);
        Assert.Equal(":authority: 127.0.0.1:2379", kestrel.DynamicEntry(4).ToString());

        // The second request refers to the client's dynamic table: newest first, so user-agent 62, te 63,
        // content-type 64, :authority 65, :path 66. It reaches Kestrel as it is and decodes to the bare authority.
        var second = Headers(3, Concat(Indexed(3), Indexed(6), Indexed(66), Indexed(65), Indexed(64), Indexed(63), Indexed(62)), Http2Frame.FlagEndHeaders | Http2Frame.FlagEndStream);
        Assert.Null(rewriter.Process(second));
        Assert.Equal(Fields(firstFields), Fields(kestrel.Decode(Assert.Single(Split(second)).Payload)));
        Assert.Equal(1, rewriter.Rewritten);
    }

    [Fact]
    public void EntriesIndexedBeforeTheFirstRewriteStayUsable()
    {
        var rewriter = new Http2AuthorityRewriter();
        var kestrel = new HpackDecoder();
        var plain = Headers(1, GrpcRequestBlock("127.0.0.1:2379", "/etcdserverpb.KV/Range"));
        Assert.Null(rewriter.Process(plain));
        kestrel.Decode(Split(plain)[0].Payload); // Kestrel saw the original bytes

        var withUrl = Headers(3, Concat(Indexed(3), Indexed(6), Indexed(66), IndexedNameLiteral(1, "http://127.0.0.1:2379"), Indexed(65), Indexed(64), Indexed(63)));
        var fields = kestrel.Decode(Split(rewriter.Process(withUrl)!)[0].Payload);
        Assert.Equal([":method: POST", ":scheme: http", ":path: /etcdserverpb.KV/Range", ":authority: 127.0.0.1:2379",
            "content-type: application/grpc", "te: trailers", "user-agent: grpc-go/1.26.0"], Fields(fields));

        // Later blocks reference the new entry (62) and old ones; nothing in them changes, so they pass as they are.
        var later = Headers(5, Concat(Indexed(3), Indexed(6), Indexed(67), Indexed(62), Indexed(65), Indexed(63)));
        Assert.Null(rewriter.Process(later));
        Assert.Equal([":method: POST", ":scheme: http", ":path: /etcdserverpb.KV/Range", ":authority: 127.0.0.1:2379",
            "content-type: application/grpc", "user-agent: grpc-go/1.26.0"], Fields(kestrel.Decode(Split(later)[0].Payload)));
    }

    [Fact]
    public void OnlyTheUrlValueChangesAndTheRestOfTheBlockKeepsItsOctets()
    {
        var before = Concat(Indexed(3), Indexed(6), IndexedNameLiteral(4, "/etcdserverpb.KV/Put"));
        var after = Concat(NewNameLiteral("te", "trailers"), IndexedNameLiteral(31, "application/grpc"));
        var block = Concat(before, IndexedNameLiteral(1, "http://10.1.2.3:2379"), after);
        var output = Assert.Single(Split(new Http2AuthorityRewriter().Process(Headers(1, block))!)).Payload;
        // Same representation (0x41: incremental indexing, static name :authority), the value as a plain string.
        Assert.Equal(Concat(before, [0x41, 13], System.Text.Encoding.Latin1.GetBytes("10.1.2.3:2379"), after), output);
        Assert.Equal("10.1.2.3:2379", Value(new HpackDecoder().Decode(output), ":authority"));
    }

    [Fact]
    public void SizeUpdatesAndEvictionsKeepReferencesValid()
    {
        var rewriter = new Http2AuthorityRewriter();
        var kestrel = new HpackDecoder();

        // Table size update to 100, then ":authority: http://127.0.0.1:2379" indexed: 63 octets in the client's
        // table, 56 in Kestrel's (bare value).
        var first = rewriter.Process(Headers(1, Concat([0x3F, 0x45], Indexed(3), IndexedNameLiteral(1, "http://127.0.0.1:2379", huffman: false))));
        Assert.Equal("127.0.0.1:2379", Value(kestrel.Decode(Split(first!)[0].Payload), ":authority"));
        Assert.Equal(56, kestrel.TableSize);

        // "te: trailers" (42 octets) evicts the authority from the client's 100-octet table; Kestrel's smaller entry
        // still fits, so Kestrel keeps it as an older entry no valid client index can reach.
        var second = Headers(3, Concat(Indexed(3), NewNameLiteral("te", "trailers")));
        Assert.Null(rewriter.Process(second));
        kestrel.Decode(Split(second)[0].Payload);
        Assert.Equal(2, kestrel.TableCount);

        // Index 62 is "te" in both tables; 63 exists only in Kestrel's, and the shim treats it as the client's error.
        var third = Headers(5, Concat(Indexed(3), Indexed(62)));
        Assert.Null(rewriter.Process(third));
        Assert.Equal([":method: POST", "te: trailers"], Fields(kestrel.Decode(Split(third)[0].Payload)));
        Assert.False(rewriter.Disabled);
        Assert.Null(rewriter.Process(Headers(7, Concat(Indexed(3), Indexed(63)))));
        Assert.True(rewriter.Disabled);
    }

    [Fact]
    public void AuthorityUnderANewOrDynamicNameIsFound()
    {
        var rewriter = new Http2AuthorityRewriter();
        var kestrel = new HpackDecoder();

        // ":authority" spelled as a new (Huffman) name, indexed: entry 62.
        var first = rewriter.Process(Headers(1, Concat(Indexed(3), NewNameLiteral(":authority", "https://a.example:2379/x"))));
        Assert.Equal("a.example:2379", Value(kestrel.Decode(Split(first!)[0].Payload), ":authority"));

        // A literal without indexing that takes its name from dynamic entry 62.
        var output = new List<byte>();
        HpackLiteralEncoder.WriteInteger(output, 0x00, 4, 62);
        output.AddRange(Concat([(byte)"unix://b".Length], System.Text.Encoding.Latin1.GetBytes("unix://b")));
        var second = rewriter.Process(Headers(3, Concat(Indexed(3), [.. output], Indexed(62))));
        Assert.Equal([":method: POST", ":authority: b", ":authority: a.example:2379"], Fields(kestrel.Decode(Split(second!)[0].Payload)));
    }

    [Fact]
    public void PaddedPriorityHeadersWithContinuationAreReassembled()
    {
        var block = GrpcRequestBlock("http://10.0.0.1:2379", "/etcdserverpb.Maintenance/Status");
        var priority = new byte[] { 0x80, 0, 0, 1, 15 };
        var firstPart = block[..5];
        var payload = Concat([3], priority, firstPart, [0, 0, 0]);
        var frames = Concat(
            Frame(Http2Frame.TypeHeaders, Http2Frame.FlagPadded | Http2Frame.FlagPriority | Http2Frame.FlagEndStream, 7, payload),
            Frame(Http2Frame.TypeContinuation, 0, 7, block[5..12]),
            Frame(Http2Frame.TypeContinuation, Http2Frame.FlagEndHeaders, 7, block[12..]));
        Assert.Equal(frames.Length, Http2AuthorityRewriter.BlockLength(new System.Buffers.ReadOnlySequence<byte>(frames)));

        var output = Split(new Http2AuthorityRewriter().Process(frames)!);
        var frame = Assert.Single(output);
        Assert.Equal(Http2Frame.FlagPriority | Http2Frame.FlagEndStream | Http2Frame.FlagEndHeaders, frame.Header.Flags);
        Assert.Equal(priority, frame.Payload[..5]);
        Assert.Equal("10.0.0.1:2379", Value(new HpackDecoder().Decode(frame.Payload[5..]), ":authority"));
    }

    [Fact]
    public void LargeReencodedBlockIsSplitIntoContinuationFrames()
    {
        var big = new string('x', 40_000);
        var block = Concat(Indexed(3), Indexed(6), IndexedNameLiteral(4, "/p"), IndexedNameLiteral(1, "http://h:1"), NewNameLiteral("x-big", big));
        var output = Split(new Http2AuthorityRewriter().Process(Headers(9, block))!);
        Assert.True(output.Count >= 3);
        Assert.Equal(Http2Frame.TypeHeaders, output[0].Header.Type);
        Assert.All(output.Skip(1), f => Assert.Equal(Http2Frame.TypeContinuation, f.Header.Type));
        Assert.All(output, f => Assert.True(f.Header.Length <= Http2Frame.MinMaxFrameSize));
        Assert.All(output, f => Assert.Equal(9u, f.Header.StreamId));
        Assert.All(output.SkipLast(1), f => Assert.Equal(0, f.Header.Flags & Http2Frame.FlagEndHeaders));
        Assert.Equal(Http2Frame.FlagEndHeaders, output[^1].Header.Flags);
        var fields = new HpackDecoder().Decode([.. output.SelectMany(f => f.Payload)]);
        Assert.Equal("h:1", Value(fields, ":authority"));
        Assert.Equal(big, Value(fields, "x-big"));
    }

    [Fact]
    public void MalformedBlockDisablesTheRewriter()
    {
        var rewriter = new Http2AuthorityRewriter();
        Assert.Null(rewriter.Process(Headers(1, [0xbe])));
        Assert.True(rewriter.Disabled);
        Assert.Null(rewriter.Process(Headers(3, GrpcRequestBlock("http://h:1", "/p"))));
    }

    [Fact]
    public void BlockLengthNeedsEveryContinuation()
    {
        var frames = Concat(Frame(Http2Frame.TypeHeaders, 0, 1, [0x82]), Frame(Http2Frame.TypeContinuation, Http2Frame.FlagEndHeaders, 1, [0x86]));
        Assert.Equal(-1, Http2AuthorityRewriter.BlockLength(new System.Buffers.ReadOnlySequence<byte>(frames[..^1])));
        Assert.Equal(-1, Http2AuthorityRewriter.BlockLength(new System.Buffers.ReadOnlySequence<byte>(frames[..12])));
        var interleaved = Concat(Frame(Http2Frame.TypeHeaders, 0, 1, [0x82]), Frame(0x0, 0, 1, [1]));
        Assert.Equal(-2, Http2AuthorityRewriter.BlockLength(new System.Buffers.ReadOnlySequence<byte>(interleaved)));
        var otherStream = Concat(Frame(Http2Frame.TypeHeaders, 0, 1, [0x82]), Frame(Http2Frame.TypeContinuation, Http2Frame.FlagEndHeaders, 3, [0x86]));
        Assert.Equal(-2, Http2AuthorityRewriter.BlockLength(new System.Buffers.ReadOnlySequence<byte>(otherStream)));
    }
}
