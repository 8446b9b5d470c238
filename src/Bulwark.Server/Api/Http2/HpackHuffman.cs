namespace Bulwark.Server.Api.Http2;

/// <summary>
/// The HPACK Huffman code (RFC 7541 Appendix B). The RFC's code is canonical (codes of one length are consecutive
/// in symbol order), so the table is kept as its code lengths and the codes are derived from them.
/// </summary>
internal static class HpackHuffman
{
    /// <summary>Code length in bits of symbols 0..255 and EOS (256), transcribed from RFC 7541 Appendix B.</summary>
    private static readonly byte[] CodeLengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32-47
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48-63
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64-79
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80-95
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96-111
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112-127
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
        30, // EOS
    ];

    private const int Eos = 256;
    private const int MaxLength = 30;

    private static readonly uint[] Codes = new uint[257];
    private static readonly uint[] FirstCode = new uint[MaxLength + 2];
    private static readonly int[] CountOfLength = new int[MaxLength + 2];
    private static readonly int[] FirstIndexOfLength = new int[MaxLength + 2];
    private static readonly short[] SymbolsByCode = new short[257];

#pragma warning disable CA1810 // the derived tables depend on each other in order; a static constructor says so plainly
    static HpackHuffman()
#pragma warning restore CA1810
    {
        foreach (var length in CodeLengths)
        {
            CountOfLength[length]++;
        }

        var code = 0u;
        var index = 0;
        for (var length = 1; length <= MaxLength; length++)
        {
            code = (code + (uint)CountOfLength[length - 1]) << 1;
            FirstCode[length] = code;
            FirstIndexOfLength[length] = index;
            index += CountOfLength[length];
        }

        var nextCode = (uint[])FirstCode.Clone();
        var nextIndex = (int[])FirstIndexOfLength.Clone();
        for (var symbol = 0; symbol <= Eos; symbol++)
        {
            var length = CodeLengths[symbol];
            Codes[symbol] = nextCode[length]++;
            SymbolsByCode[nextIndex[length]++] = (short)symbol;
        }
    }

    /// <summary>The code of <paramref name="symbol"/> (0..256), aligned to the least significant bit.</summary>
    public static uint CodeOf(int symbol) => Codes[symbol];

    /// <summary>The code length in bits of <paramref name="symbol"/> (0..256).</summary>
    public static int LengthOf(int symbol) => CodeLengths[symbol];

    /// <summary>Number of bytes <see cref="Encode"/> produces for <paramref name="data"/>.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> data)
    {
        long bits = 0;
        foreach (var b in data)
        {
            bits += CodeLengths[b];
        }

        return (int)((bits + 7) / 8);
    }

    /// <summary>Huffman-encodes <paramref name="data"/>, padding the last byte with the most significant bits of EOS.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new byte[EncodedLength(data)];
        ulong accumulator = 0;
        var pending = 0;
        var at = 0;
        foreach (var b in data)
        {
            accumulator = (accumulator << CodeLengths[b]) | Codes[b];
            pending += CodeLengths[b];
            while (pending >= 8)
            {
                pending -= 8;
                output[at++] = (byte)(accumulator >> pending);
            }
        }

        if (pending > 0)
        {
            output[at] = (byte)((accumulator << (8 - pending)) | (0xFFu >> pending));
        }

        return output;
    }

    /// <summary>Decodes a Huffman-coded string (see <see cref="Decode(ReadOnlySpan{byte}, Span{byte})"/> for what is rejected).</summary>
    public static byte[] Decode(ReadOnlySpan<byte> encoded)
    {
        var output = new byte[DecodedLength(encoded)];
        Decode(encoded, output);
        return output;
    }

    /// <summary>Number of octets <paramref name="encoded"/> decodes to, validating it as <see cref="Decode(ReadOnlySpan{byte}, Span{byte})"/> does; allocates nothing.</summary>
    public static int DecodedLength(ReadOnlySpan<byte> encoded) => Walk(encoded, [], write: false);

    /// <summary>
    /// Decodes a Huffman-coded string into <paramref name="destination"/> (at least <see cref="DecodedLength"/> octets)
    /// and returns its length. Throws <see cref="HpackException"/> on an EOS symbol, padding longer than 7 bits, or
    /// padding that is not all ones (RFC 7541 section 5.2).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<byte> destination) => Walk(encoded, destination, write: true);

    private static int Walk(ReadOnlySpan<byte> encoded, Span<byte> destination, bool write)
    {
        var written = 0;
        uint code = 0;
        var length = 0;
        foreach (var b in encoded)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | (uint)((b >> bit) & 1);
                length++;
                var offset = code - FirstCode[length];
                if (offset < (uint)CountOfLength[length])
                {
                    var symbol = SymbolsByCode[FirstIndexOfLength[length] + (int)offset];
                    if (symbol == Eos)
                    {
                        throw new HpackException("Huffman string contains the EOS symbol");
                    }

                    if (write)
                    {
                        destination[written] = (byte)symbol;
                    }

                    written++;
                    code = 0;
                    length = 0;
                }
                else if (length >= MaxLength)
                {
                    throw new HpackException("Huffman string contains an invalid code");
                }
            }
        }

        if (length > 7 || code != (1u << length) - 1)
        {
            throw new HpackException("Huffman string padding is not a prefix of EOS of at most 7 bits");
        }

        return written;
    }
}
