using System.Buffers;

namespace Bulwark.Server.Api.Http2;

/// <summary>
/// Rewrites client request header blocks whose <c>:authority</c> is a URL ("http://host:port", as etcdctl 3.4's
/// per-endpoint connections send it through grpc-go's passthrough resolver) to the bare authority ("host:port"),
/// which Kestrel accepts; Kestrel validates :authority as a Host header and resets the stream otherwise.
/// <para>
/// One instance follows one connection's client-to-server header blocks in order (<see cref="HpackAuthorityScanner"/>).
/// A block without a URL :authority literal passes through as it is, also after earlier blocks were rewritten; a
/// block with one is re-framed with only those string literals replaced, every other octet of the fragment kept.
/// </para>
/// </summary>
internal sealed class Http2AuthorityRewriter
{
    /// <summary>Header blocks (all frames) larger than this are left for Kestrel to reject under its own limits.</summary>
    public const int MaxBlockBytes = 1024 * 1024;

    private readonly HpackAuthorityScanner scanner = new();

    /// <summary>True once a block was malformed: the rewriter no longer tracks the connection and everything should pass through.</summary>
    public bool Disabled { get; private set; }

    /// <summary>Number of header blocks rewritten so far.</summary>
    public int Rewritten { get; private set; }

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
    public byte[]? Process(in ReadOnlySequence<byte> frames)
    {
        if (frames.IsSingleSegment)
        {
            return Process(frames.FirstSpan);
        }

        var copy = ArrayPool<byte>.Shared.Rent((int)frames.Length);
        try
        {
            frames.CopyTo(copy);
            return Process(copy.AsSpan(0, (int)frames.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <inheritdoc cref="Process(in ReadOnlySequence{byte})"/>
    public byte[]? Process(ReadOnlySpan<byte> frames)
    {
        if (Disabled)
        {
            return null;
        }

        try
        {
            var replacement = ProcessBlock(frames);
            if (replacement is not null)
            {
                Rewritten++;
            }

            return replacement;
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

        var firstFragment = firstPayload[fragmentStart..^padLength];
        if (Http2Frame.HeaderLength + first.Length == frames.Length)
        {
            // The common case: the whole block in one HEADERS frame, scanned where it lies.
            return Rewrite(first, priority, firstFragment);
        }

        // CONTINUATION frames: the fragment is the concatenation of the payloads.
        var gathered = ArrayPool<byte>.Shared.Rent(frames.Length);
        try
        {
            firstFragment.CopyTo(gathered);
            var length = firstFragment.Length;
            var offset = Http2Frame.HeaderLength + first.Length;
            while (offset < frames.Length)
            {
                var continuation = Http2Frame.Header.Parse(frames[offset..]);
                frames.Slice(offset + Http2Frame.HeaderLength, continuation.Length).CopyTo(gathered.AsSpan(length));
                length += continuation.Length;
                offset += Http2Frame.HeaderLength + continuation.Length;
            }

            return Rewrite(first, priority, gathered.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    private byte[]? Rewrite(Http2Frame.Header first, ReadOnlySpan<byte> priority, ReadOnlySpan<byte> fragment)
    {
        var edits = scanner.Scan(fragment);
        if (edits is null)
        {
            return null;
        }

        // Each URL value becomes a plain (non-Huffman) string literal of the bare authority in the same place; the
        // representation's prefix (and so whether it is indexed) and every other field stay as the client sent them.
        var capacity = fragment.Length;
        foreach (var edit in edits)
        {
            capacity += edit.Bare.Length + 5; // a plain value may be longer than the Huffman one it replaces
        }

        var rewritten = new byte[capacity];
        var length = 0;
        var copied = 0;
        foreach (var edit in edits)
        {
            fragment[copied..edit.ValueStart].CopyTo(rewritten.AsSpan(length));
            length += edit.ValueStart - copied;
            length += HpackAuthorityScanner.WriteInteger(rewritten.AsSpan(length), 0x00, 7, edit.Bare.Length);
            edit.Bare.CopyTo(rewritten.AsSpan(length));
            length += edit.Bare.Length;
            copied = edit.ValueEnd;
        }

        fragment[copied..].CopyTo(rewritten.AsSpan(length));
        length += fragment.Length - copied;
        return Frame(first, priority, rewritten.AsSpan(0, length));
    }

    /// <summary>HEADERS (+ CONTINUATION) frames carrying <paramref name="block"/>, none with a payload over 16384 octets.</summary>
    private static byte[] Frame(Http2Frame.Header first, ReadOnlySpan<byte> priority, ReadOnlySpan<byte> block)
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

            block.Slice(taken, chunk).CopyTo(output.AsSpan(at));
            at += chunk;
            taken += chunk;
        }

        return output;
    }
}
