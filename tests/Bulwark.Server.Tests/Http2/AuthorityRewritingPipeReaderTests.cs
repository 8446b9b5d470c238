using System.Buffers;
using System.IO.Pipelines;
using Bulwark.Server.Api.Http2;
using static Bulwark.Server.Tests.Http2.Http2TestFrames;

namespace Bulwark.Server.Tests.Http2;

public sealed class AuthorityRewritingPipeReaderTests
{
    private static readonly byte[] Settings = Frame(0x4, 0, 0, new byte[6]);

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, false)]
    public async Task KestrelSeesBareAuthoritiesAndUntouchedDataFrames(int seed, bool huffman)
    {
        var random = new Random(seed);
        var data = new byte[40_000];
        random.NextBytes(data);
        var input = Concat(
            Http2Frame.ClientPreface.ToArray(),
            Settings,
            Headers(1, GrpcRequestBlock("127.0.0.1:2379", "/etcdserverpb.KV/Put", huffman)),
            Frame(0x0, 0, 1, data.AsSpan(0, 16_000)),
            Frame(0x0, Http2Frame.FlagEndStream, 1, data.AsSpan(16_000, 100)),
            Headers(3, GrpcRequestBlock("http://127.0.0.1:2379", "/etcdserverpb.Maintenance/Status", huffman)),
            Frame(0x0, Http2Frame.FlagEndStream | Http2Frame.FlagPadded, 3, Concat([4], data[..50], new byte[4])),
            Frame(0x8, 0, 0, [0, 0, 1, 0]),
            Headers(5, Concat(Indexed(3), Indexed(6), Indexed(66), Indexed(65), Indexed(64), Indexed(63), Indexed(62))),
            Frame(0x0, Http2Frame.FlagEndStream, 5, data.AsSpan(100, 16_384)),
            Frame(0x6, 0, 0, new byte[8]));

        var frames = await ReadAsKestrel(input, random);

        var kestrel = new HpackDecoder();
        var headers = frames.Where(f => f.Header.Type == Http2Frame.TypeHeaders).Select(f => kestrel.Decode(f.Payload)).ToList();
        Assert.Equal(3, headers.Count);
        Assert.All(headers, h => Assert.Equal("127.0.0.1:2379", Value(h, ":authority")));
        Assert.Equal("/etcdserverpb.KV/Put", Value(headers[0], ":path"));
        Assert.Equal("/etcdserverpb.Maintenance/Status", Value(headers[1], ":path"));
        Assert.Equal("/etcdserverpb.Maintenance/Status", Value(headers[2], ":path"));

        var others = frames.Where(f => f.Header.Type != Http2Frame.TypeHeaders).ToList();
        var expectedOthers = Split(input.AsSpan(Http2Frame.ClientPreface.Length)).Where(f => f.Header.Type != Http2Frame.TypeHeaders).ToList();
        Assert.Equal(expectedOthers.Count, others.Count);
        for (var i = 0; i < others.Count; i++)
        {
            Assert.Equal(expectedOthers[i].Header, others[i].Header);
            Assert.Equal(expectedOthers[i].Payload, others[i].Payload);
        }
    }

    /// <summary>
    /// Random valid connections (RandomHpackClient: every representation, Huffman or not, dynamic-table inserts and
    /// references across rewritten and untouched blocks, evictions, size updates; blocks split into CONTINUATION
    /// frames with random padding and PRIORITY; other frames in between; random read boundaries): what Kestrel decodes
    /// from the shim's output is exactly what the client sent with each URL :authority made bare, every other frame
    /// arrives unchanged, and only blocks holding a URL :authority literal are rewritten.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task KestrelDecodesTheClientsHeadersWithOnlyTheAuthorityChanged(int seed)
    {
        var random = new Random(seed);
        var client = new RandomHpackClient(random);
        var parts = new List<byte[]> { Http2Frame.ClientPreface.ToArray(), Settings };
        var expectedBlocks = new List<List<string>>();
        var expectedOthers = new List<byte[]>();
        var urlBlocks = 0;
        for (var b = 0; b < 60; b++)
        {
            var (block, fields, urlLiteral) = client.NextBlock();
            expectedBlocks.Add(fields);
            urlBlocks += urlLiteral ? 1 : 0;
            parts.AddRange(FrameRandomly((uint)(1 + (2 * b)), block, random));
            for (var o = random.Next(0, 3); o > 0; o--)
            {
                var other = random.Next(3) switch
                {
                    0 => Frame(0x0, (byte)random.Next(2), (uint)(1 + (2 * b)), RandomBytes(random, random.Next(0, Http2Frame.MinMaxFrameSize + 1))),
                    1 => Frame(0x8, 0, 0, [0, 0, 1, 0]),
                    _ => Frame(0x6, 0, 0, RandomBytes(random, 8)),
                };
                parts.Add(other);
                expectedOthers.Add(other);
            }
        }

        var (frames, rewritten) = await ReadAsKestrelCounting(Concat([.. parts]), random, maxChunk: random.Next(2) == 0 ? 40 : 5000);

        var kestrel = new HpackDecoder();
        var decoded = new List<List<string>>();
        var fragment = new List<byte>();
        var others = new List<byte[]>();
        foreach (var (header, payload) in frames)
        {
            if (header.Type is Http2Frame.TypeHeaders or Http2Frame.TypeContinuation)
            {
                fragment.AddRange(header.Type == Http2Frame.TypeHeaders ? HeadersFragment(header, payload) : payload);
                if ((header.Flags & Http2Frame.FlagEndHeaders) != 0)
                {
                    decoded.Add(Fields(kestrel.Decode([.. fragment])).ToList());
                    fragment.Clear();
                }
            }
            else if (header.Type != 0x4 || header.Length != 6)
            {
                var whole = new byte[Http2Frame.HeaderLength + payload.Length];
                header.Write(whole);
                payload.CopyTo(whole, Http2Frame.HeaderLength);
                others.Add(whole);
            }
        }

        Assert.Equal(expectedBlocks.Count, decoded.Count);
        for (var i = 0; i < decoded.Count; i++)
        {
            Assert.Equal(expectedBlocks[i], decoded[i]);
        }

        Assert.Equal(expectedOthers.Count, others.Count);
        for (var i = 0; i < others.Count; i++)
        {
            Assert.Equal(expectedOthers[i], others[i]);
        }

        Assert.Equal(urlBlocks, rewritten);
    }

    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (var seed = 100; seed < 140; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Fact]
    public async Task InputWithoutUrlAuthoritiesIsDeliveredByteForByte()
    {
        var random = new Random(11);
        var input = Concat(
            Http2Frame.ClientPreface.ToArray(),
            Settings,
            Headers(1, GrpcRequestBlock("127.0.0.1:2379", "/etcdserverpb.KV/Range")),
            Frame(0x0, Http2Frame.FlagEndStream, 1, new byte[300]),
            Headers(3, Concat(Indexed(3), Indexed(6), Indexed(66), Indexed(65), Indexed(64), Indexed(63), Indexed(62))));
        var received = await ReadRaw(input, random);
        Assert.Equal(input, received);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\u0001\u0009\u0004\0\0\0\u0001\u0082")] // CONTINUATION without HEADERS
    public async Task MalformedInputPassesThroughUnchanged(string text)
    {
        var input = System.Text.Encoding.Latin1.GetBytes(text);
        Assert.Equal(input, await ReadRaw(input, new Random(5)));
    }

    /// <summary>A block's fragment split into a HEADERS frame and CONTINUATION frames, with random END_STREAM, PRIORITY and padding.</summary>
    private static IEnumerable<byte[]> FrameRandomly(uint streamId, byte[] block, Random random)
    {
        var pieces = random.Next(1, 4);
        var cuts = Enumerable.Range(0, pieces - 1).Select(_ => random.Next(0, block.Length + 1)).Order().Prepend(0).Append(block.Length).ToArray();
        for (var p = 0; p < pieces; p++)
        {
            var piece = block[cuts[p]..cuts[p + 1]];
            var flags = p == pieces - 1 ? Http2Frame.FlagEndHeaders : (byte)0;
            if (p > 0)
            {
                yield return Frame(Http2Frame.TypeContinuation, flags, streamId, piece);
                continue;
            }

            flags |= (byte)random.Next(2); // END_STREAM
            var payload = new List<byte>();
            var padding = random.Next(3) == 0 ? random.Next(0, 30) : -1;
            if (padding >= 0)
            {
                flags |= Http2Frame.FlagPadded;
                payload.Add((byte)padding);
            }

            if (random.Next(3) == 0)
            {
                flags |= Http2Frame.FlagPriority;
                payload.AddRange([0, 0, 0, 1, (byte)random.Next(256)]);
            }

            payload.AddRange(piece);
            payload.AddRange(new byte[Math.Max(0, padding)]);
            yield return Frame(Http2Frame.TypeHeaders, flags, streamId, [.. payload]);
        }
    }

    private static byte[] HeadersFragment(Http2Frame.Header header, byte[] payload)
    {
        var start = 0;
        var padding = 0;
        if ((header.Flags & Http2Frame.FlagPadded) != 0)
        {
            padding = payload[0];
            start = 1;
        }

        if ((header.Flags & Http2Frame.FlagPriority) != 0)
        {
            start += 5;
        }

        return payload[start..^padding];
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes <paramref name="input"/> in random chunks and reads it the way Kestrel does: whole frames, advancing past them.</summary>
    private static async Task<List<(Http2Frame.Header Header, byte[] Payload)>> ReadAsKestrel(byte[] input, Random random) =>
        (await ReadAsKestrelCounting(input, random, maxChunk: 3000)).Frames;

    private static async Task<(List<(Http2Frame.Header Header, byte[] Payload)> Frames, int Rewritten)> ReadAsKestrelCounting(byte[] input, Random random, int maxChunk)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512));
        var reader = new AuthorityRewritingPipeReader(pipe.Reader);
        var writing = WriteInChunks(pipe.Writer, input, random, maxChunk);
        var frames = new List<(Http2Frame.Header, byte[])>();
        var prefaceRead = false;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            if (!prefaceRead && buffer.Length >= Http2Frame.ClientPreface.Length)
            {
                Assert.True(buffer.Slice(0, Http2Frame.ClientPreface.Length).ToArray().AsSpan().SequenceEqual(Http2Frame.ClientPreface));
                buffer = buffer.Slice(Http2Frame.ClientPreface.Length);
                prefaceRead = true;
            }

            while (prefaceRead && buffer.Length >= Http2Frame.HeaderLength)
            {
                var header = Http2Frame.Header.Parse(buffer, 0);
                if (buffer.Length < Http2Frame.HeaderLength + header.Length)
                {
                    break;
                }

                frames.Add((header, buffer.Slice(Http2Frame.HeaderLength, header.Length).ToArray()));
                buffer = buffer.Slice(Http2Frame.HeaderLength + header.Length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.Equal(0, buffer.Length);
                break;
            }
        }

        await writing;
        reader.Complete();
        return (frames, reader.Rewritten);
    }

    private static async Task<byte[]> ReadRaw(byte[] input, Random random)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512));
        var reader = new AuthorityRewritingPipeReader(pipe.Reader);
        var writing = WriteInChunks(pipe.Writer, input, random);
        var received = new List<byte>();
        while (true)
        {
            var result = await reader.ReadAsync();
            var take = result.IsCompleted ? result.Buffer.Length : random.Next(0, (int)result.Buffer.Length + 1);
            received.AddRange(result.Buffer.Slice(0, take).ToArray());
            reader.AdvanceTo(result.Buffer.GetPosition(take), result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await writing;
        return [.. received];
    }

    private static async Task WriteInChunks(PipeWriter writer, byte[] input, Random random, int maxChunk = 3000)
    {
        var at = 0;
        while (at < input.Length)
        {
            var chunk = Math.Min(input.Length - at, random.Next(1, maxChunk));
            await writer.WriteAsync(input.AsMemory(at, chunk));
            at += chunk;
        }

        await writer.CompleteAsync();
    }
}
