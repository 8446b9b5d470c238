using System.Buffers;

namespace Bulwark.Server.Api.Http2;

/// <summary>
/// Rewrites client request header blocks whose <c>:authority</c> is a URL ("http://host:port", as etcdctl 3.4's
/// per-endpoint connections send it through grpc-go's passthrough resolver) to the bare authority ("host:port"),
/// which Kestrel accepts; Kestrel validates :authority as a Host header and resets the stream otherwise.
/// <para>
/// One instance follows one connection's client-to-server header blocks in order, mirroring the client's HPACK
/// dynamic table. Blocks pass through unchanged until one needs a rewrite; from then on every block is re-encoded
/// with literals that never use Kestrel's dynamic table, so what Kestrel's table holds stops mattering.
/// </para>
/// </summary>
public sealed class Http2AuthorityRewriter
{
    /// <summary>Header blocks (all frames) larger than this are left for Kestrel to reject under its own limits.</summary>
    public const int MaxBlockBytes = 1024 * 1024;

    private static readonly byte[] AuthorityName = ":authority"u8.ToArray();

    private readonly HpackDecoder decoder = new();

    /// <summary>True once a block was malformed: the rewriter no longer tracks the connection and everything should pass through.</summary>
    public bool Disabled { get; private set; }

    /// <summary>True once some block was rewritten (every later block is re-encoded).</summary>
    public bool Reencoding { get; private set; }

    /// <summary>
    /// Length of the complete header block (a HEADERS frame and its CONTINUATION frames) at the start of
    /// <paramref name="frames"/>; -1 when more bytes are needed, -2 when the frames are malformed.
    /// </summary>
    public static long BlockLength(in ReadOnlySequence<byte> frames)
    {
        long offset = 0;
        uint streamId = 0;
        while (true)
        {
            if (frames.Length - offset < Http2Frame.HeaderLength)
            {
                return -1;
            }

            var header = Http2Frame.Header.Parse(frames, offset);
            var expected = offset == 0 ? Http2Frame.TypeHeaders : Http2Frame.TypeContinuation;
            if (header.Type != expected || (offset != 0 && header.StreamId != streamId))
            {
                return -2;
            }

            streamId = header.StreamId;
            var end = offset + Http2Frame.HeaderLength + header.Length;
            if (end > MaxBlockBytes)
            {
                return -2;
            }

            if (end > frames.Length)
            {
                return -1;
            }

            offset = end;
            if ((header.Flags & Http2Frame.FlagEndHeaders) != 0)
            {
                return offset;
            }
        }
    }

    /// <summary>
    /// Processes one complete header block (as delimited by <see cref="BlockLength"/>): returns the frames to send
    /// instead, or null to pass the original frames through unchanged (also when the block is malformed, after
    /// which <see cref="Disabled"/> is set).
    /// </summary>
    public byte[]? Process(ReadOnlySpan<byte> frames)
    {
        if (Disabled)
        {
            return null;
        }

        try
        {
            return ProcessBlock(frames);
        }
        catch (HpackException)
        {
            Disabled = true;
            return null;
        }
    }

    private byte[]? ProcessBlock(ReadOnlySpan<byte> frames)
    {
        var first = Http2Frame.Header.Parse(frames);
        var firstPayload = frames.Slice(Http2Frame.HeaderLength, first.Length);
        var fragmentStart = 0;
        var padLength = 0;
        if ((first.Flags & Http2Frame.FlagPadded) != 0)
        {
            if (firstPayload.Length < 1)
            {
                throw new HpackException("padded HEADERS frame has no pad length");
            }

            padLength = firstPayload[0];
            fragmentStart = 1;
        }

        var priority = ReadOnlySpan<byte>.Empty;
        if ((first.Flags & Http2Frame.FlagPriority) != 0)
        {
            if (firstPayload.Length < fragmentStart + 5)
            {
                throw new HpackException("HEADERS frame with PRIORITY is too short");
            }

            priority = firstPayload.Slice(fragmentStart, 5);
            fragmentStart += 5;
        }

        if (firstPayload.Length - fragmentStart < padLength)
        {
            throw new HpackException("HEADERS frame padding is longer than its payload");
        }

        var block = new ArrayBufferWriter<byte>(frames.Length);
        block.Write(firstPayload[fragmentStart..^padLength]);
        var offset = Http2Frame.HeaderLength + first.Length;
        while (offset < frames.Length)
        {
            var continuation = Http2Frame.Header.Parse(frames[offset..]);
            block.Write(frames.Slice(offset + Http2Frame.HeaderLength, continuation.Length));
            offset += Http2Frame.HeaderLength + continuation.Length;
        }

        var fields = decoder.Decode(block.WrittenSpan);
        var rewritten = false;
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Name.AsSpan().SequenceEqual(AuthorityName) && BareAuthority(fields[i].Value) is { } bare)
            {
                fields[i] = fields[i] with { Value = bare };
                rewritten = true;
            }
        }

        if (!rewritten && !Reencoding)
        {
            return null;
        }

        Reencoding = true;
        return Frame(first, priority, HpackLiteralEncoder.Encode(fields));
    }

    /// <summary>"scheme://host:port[/...]" to "host:port"; null when <paramref name="value"/> is not of that form.</summary>
    public static byte[]? BareAuthority(ReadOnlySpan<byte> value)
    {
        var schemeEnd = value.IndexOf("://"u8);
        if (schemeEnd <= 0)
        {
            return null;
        }

        var rest = value[(schemeEnd + 3)..];
        var end = rest.IndexOfAny("/?#"u8);
        var authority = end < 0 ? rest : rest[..end];
        return authority.IsEmpty ? null : authority.ToArray();
    }

    /// <summary>HEADERS (+ CONTINUATION) frames carrying <paramref name="block"/>, none with a payload over 16384 octets.</summary>
    private static byte[] Frame(Http2Frame.Header first, ReadOnlySpan<byte> priority, byte[] block)
    {
        var firstCapacity = Http2Frame.MinMaxFrameSize - priority.Length;
        var frameCount = block.Length <= firstCapacity
            ? 1
            : 1 + ((block.Length - firstCapacity + Http2Frame.MinMaxFrameSize - 1) / Http2Frame.MinMaxFrameSize);
        var output = new byte[(frameCount * Http2Frame.HeaderLength) + priority.Length + block.Length];
        var at = 0;
        var taken = 0;
        for (var frame = 0; frame < frameCount; frame++)
        {
            var capacity = frame == 0 ? firstCapacity : Http2Frame.MinMaxFrameSize;
            var chunk = Math.Min(capacity, block.Length - taken);
            var last = frame == frameCount - 1;
            byte flags;
            byte type;
            int payloadLength;
            if (frame == 0)
            {
                type = Http2Frame.TypeHeaders;
                flags = (byte)(first.Flags & (Http2Frame.FlagEndStream | Http2Frame.FlagPriority));
                payloadLength = priority.Length + chunk;
            }
            else
            {
                type = Http2Frame.TypeContinuation;
                flags = 0;
                payloadLength = chunk;
            }

            if (last)
            {
                flags |= Http2Frame.FlagEndHeaders;
            }

            new Http2Frame.Header(payloadLength, type, flags, first.StreamId).Write(output.AsSpan(at));
            at += Http2Frame.HeaderLength;
            if (frame == 0)
            {
                priority.CopyTo(output.AsSpan(at));
                at += priority.Length;
            }

            block.AsSpan(taken, chunk).CopyTo(output.AsSpan(at));
            at += chunk;
            taken += chunk;
        }

        return output;
    }
}
