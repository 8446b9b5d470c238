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

    /// <summary>Writes <paramref name="input"/> in random chunks and reads it the way Kestrel does: whole frames, advancing past them.</summary>
    private static async Task<List<(Http2Frame.Header Header, byte[] Payload)>> ReadAsKestrel(byte[] input, Random random)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512));
        var reader = new AuthorityRewritingPipeReader(pipe.Reader);
        var writing = WriteInChunks(pipe.Writer, input, random);
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
        return frames;
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

    private static async Task WriteInChunks(PipeWriter writer, byte[] input, Random random)
    {
        var at = 0;
        while (at < input.Length)
        {
            var chunk = Math.Min(input.Length - at, random.Next(1, 3000));
            await writer.WriteAsync(input.AsMemory(at, chunk));
            at += chunk;
        }

        await writer.CompleteAsync();
    }
}
