using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

/// <summary>
/// The tests' reference HPACK decoder (RFC 7541, checked against its Appendix C vectors in HpackDecoderTests): it
/// stands for Kestrel's decoder when a test checks what Kestrel decodes from the shim's output. One instance follows
/// one direction of one connection and must see every header block of it, in order. (The shim itself only scans:
/// src/Bulwark.Server/Api/Http2/HpackAuthorityScanner.cs.)
/// </summary>
internal sealed class HpackDecoder
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE default (RFC 7540 6.5.2), which Kestrel also advertises.</summary>
    public const int DefaultMaxTableSize = 4096;

    private readonly LinkedList<HeaderField> dynamicTable = new();
    private readonly int maxAllowedTableSize;
    private int maxTableSize;
    private int tableSize;

    /// <param name="maxAllowedTableSize">The largest table size a size update may ask for (the decoder's SETTINGS_HEADER_TABLE_SIZE).</param>
    public HpackDecoder(int maxAllowedTableSize = DefaultMaxTableSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAllowedTableSize);
        this.maxAllowedTableSize = maxAllowedTableSize;
        maxTableSize = maxAllowedTableSize;
    }

    /// <summary>Current dynamic table size in HPACK octets (entries' name + value + 32).</summary>
    public int TableSize => tableSize;

    /// <summary>Number of dynamic table entries.</summary>
    public int TableCount => dynamicTable.Count;

    /// <summary>The entry at 1-based dynamic <paramref name="index"/> (1 is the newest).</summary>
    public HeaderField DynamicEntry(int index) =>
        index >= 1 && index <= dynamicTable.Count
            ? dynamicTable.ElementAt(index - 1)
            : throw new ArgumentOutOfRangeException(nameof(index), index, "no such dynamic table entry");

    /// <summary>Decodes one complete header block, updating the dynamic table. Throws <see cref="HpackException"/> on invalid input.</summary>
    public List<HeaderField> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<HeaderField>();
        var at = 0;
        while (at < block.Length)
        {
            var first = block[at];
            if ((first & 0x80) != 0)
            {
                var index = ReadInteger(block, ref at, 7);
                fields.Add(Lookup(index));
            }
            else if ((first & 0xC0) == 0x40)
            {
                var field = ReadLiteral(block, ref at, 6, neverIndexed: false);
                fields.Add(field);
                Insert(field);
            }
            else if ((first & 0xE0) == 0x20)
            {
                var size = ReadInteger(block, ref at, 5);
                if (size > maxAllowedTableSize)
                {
                    throw new HpackException($"dynamic table size update to {size} exceeds the allowed {maxAllowedTableSize}");
                }

                maxTableSize = size;
                Evict(0);
            }
            else
            {
                fields.Add(ReadLiteral(block, ref at, 4, neverIndexed: (first & 0x10) != 0));
            }
        }

        return fields;
    }

    private HeaderField ReadLiteral(ReadOnlySpan<byte> block, ref int at, int prefixBits, bool neverIndexed)
    {
        var nameIndex = ReadInteger(block, ref at, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref at) : Lookup(nameIndex).Name;
        var value = ReadString(block, ref at);
        return new HeaderField(name, value, neverIndexed);
    }

    private HeaderField Lookup(int index)
    {
        if (index == 0)
        {
            throw new HpackException("header index 0 is not valid");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        var dynamicIndex = index - HpackStaticTable.Count;
        if (dynamicIndex > dynamicTable.Count)
        {
            throw new HpackException($"header index {index} is beyond the dynamic table ({dynamicTable.Count} entries)");
        }

        return dynamicTable.ElementAt(dynamicIndex - 1);
    }

    private void Insert(HeaderField field)
    {
        var size = field.TableSize;
        Evict(size);
        if (size <= maxTableSize)
        {
            dynamicTable.AddFirst(field with { NeverIndexed = false });
            tableSize += size;
        }
    }

    private void Evict(int room)
    {
        while (dynamicTable.Count > 0 && tableSize + room > maxTableSize)
        {
            tableSize -= dynamicTable.Last!.Value.TableSize;
            dynamicTable.RemoveLast();
        }
    }

    private static byte[] ReadString(ReadOnlySpan<byte> block, ref int at)
    {
        if (at >= block.Length)
        {
            throw new HpackException("header block ends before a string literal");
        }

        var huffman = (block[at] & 0x80) != 0;
        var length = ReadInteger(block, ref at, 7);
        if (length > block.Length - at)
        {
            throw new HpackException($"string literal of {length} octets runs past the end of the header block");
        }

        var raw = block.Slice(at, length);
        at += length;
        return huffman ? HpackHuffman.Decode(raw) : raw.ToArray();
    }

    /// <summary>Reads an HPACK integer with an N-bit prefix (RFC 7541 5.1), starting at the prefix octet.</summary>
    public static int ReadInteger(ReadOnlySpan<byte> block, ref int at, int prefixBits)
    {
        if (at >= block.Length)
        {
            throw new HpackException("header block ends before an integer");
        }

        var mask = (1 << prefixBits) - 1;
        var value = block[at++] & mask;
        if (value < mask)
        {
            return value;
        }

        var shift = 0;
        while (true)
        {
            if (at >= block.Length)
            {
                throw new HpackException("header block ends inside an integer");
            }

            var b = block[at++];
            if (shift > 21)
            {
                throw new HpackException("integer in header block is too large");
            }

            value += (b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
