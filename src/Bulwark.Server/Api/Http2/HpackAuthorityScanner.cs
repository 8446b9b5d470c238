using System.Buffers;

namespace Bulwark.Server.Api.Http2;

/// <summary>
/// Follows one connection's client-to-server HPACK stream (RFC 7541) just far enough to find <c>:authority</c> literals
/// whose value is a URL, without materializing any header. It mirrors the client's dynamic table as entry sizes and a
/// "name is :authority" flag only, so a block costs a walk over its octets and allocates nothing unless it needs a
/// rewrite; Huffman strings are decoded only to learn an indexed entry's size or to read an :authority value.
/// <para>
/// Why indexed references never need rewriting: a rewritten literal keeps its representation (incremental indexing
/// stays incremental indexing), so Kestrel's table gets the same entries in the same order as the client's, the
/// :authority ones holding the shorter bare value. An entry is never larger in Kestrel's table than in the client's,
/// so Kestrel evicts no earlier than the client does and every index valid for the client names the same entry in
/// both tables, with the bare authority in Kestrel's.
/// </para>
/// </summary>
internal sealed class HpackAuthorityScanner
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 6.5.2), which Kestrel advertises.</summary>
    public const int DefaultMaxTableSize = 4096;

    private const int EntryOverhead = 32;
    private const int AuthorityStaticIndex = 1;
    private const int StackDecodeLimit = 256;

    private readonly Entry[] ring;
    private readonly int maxAllowedTableSize;
    private int maxTableSize;
    private int tableSize;
    private int newest = -1;
    private int count;

    /// <param name="maxAllowedTableSize">The largest table size a size update may ask for (Kestrel's SETTINGS_HEADER_TABLE_SIZE).</param>
    public HpackAuthorityScanner(int maxAllowedTableSize = DefaultMaxTableSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAllowedTableSize);
        this.maxAllowedTableSize = maxAllowedTableSize;
        maxTableSize = maxAllowedTableSize;
        ring = new Entry[(maxAllowedTableSize / EntryOverhead) + 1];
    }

    /// <summary>The client's dynamic table size in HPACK octets (entries' name + value + 32).</summary>
    public int TableSize => tableSize;

    /// <summary>Number of entries in the client's dynamic table.</summary>
    public int TableCount => count;

    /// <summary>
    /// Walks one complete header block fragment (all HEADERS/CONTINUATION payload, without padding or priority),
    /// updating the mirrored table. Returns null when Kestrel may see it as it is, or the :authority values to replace,
    /// in block order. Throws <see cref="HpackException"/> when the block is not valid HPACK for this table.
    /// </summary>
    public List<AuthorityEdit>? Scan(ReadOnlySpan<byte> block)
    {
        List<AuthorityEdit>? edits = null;
        var at = 0;
        while (at < block.Length)
        {
            var first = block[at];
            if ((first & 0x80) != 0)
            {
                Resolve(ReadInteger(block, ref at, 7)); // validated only: see the class comment
            }
            else if ((first & 0xC0) == 0x40)
            {
                Literal(block, ref at, 6, insert: true, ref edits);
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
                Literal(block, ref at, 4, insert: false, ref edits);
            }
        }

        return edits;
    }

    private void Literal(ReadOnlySpan<byte> block, ref int at, int prefixBits, bool insert, ref List<AuthorityEdit>? edits)
    {
        var nameIndex = ReadInteger(block, ref at, prefixBits);
        int nameLength;
        bool authority;
        if (nameIndex == 0)
        {
            var name = ReadString(block, ref at, out var nameHuffman);
            nameLength = nameHuffman ? HpackHuffman.DecodedLength(name) : name.Length;
            authority = nameLength == HpackStaticTable.AuthorityName.Length && IsAuthorityName(name, nameHuffman);
        }
        else
        {
            (nameLength, authority) = Resolve(nameIndex);
        }

        var valueStart = at;
        var value = ReadString(block, ref at, out var valueHuffman);
        var valueLength = value.Length;
        if (authority)
        {
            valueLength = ReadAuthority(value, valueHuffman, valueStart, at, ref edits);
        }
        else if (insert && valueHuffman)
        {
            valueLength = HpackHuffman.DecodedLength(value);
        }

        if (insert)
        {
            Insert(new Entry(nameLength, valueLength, authority));
        }
    }

    /// <summary>Records an edit when the :authority value is a URL; returns the value's decoded length.</summary>
    private static int ReadAuthority(ReadOnlySpan<byte> value, bool huffman, int valueStart, int valueEnd, ref List<AuthorityEdit>? edits)
    {
        if (!huffman)
        {
            AddEditIfUrl(value, valueStart, valueEnd, ref edits);
            return value.Length;
        }

        var decodedLength = HpackHuffman.DecodedLength(value);
        byte[]? rented = null;
        var decoded = decodedLength <= StackDecodeLimit
            ? stackalloc byte[StackDecodeLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(decodedLength));
        try
        {
            HpackHuffman.Decode(value, decoded);
            AddEditIfUrl(decoded[..decodedLength], valueStart, valueEnd, ref edits);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return decodedLength;
    }

    private static void AddEditIfUrl(ReadOnlySpan<byte> value, int valueStart, int valueEnd, ref List<AuthorityEdit>? edits)
    {
        if (BareAuthority(value) is { } bare)
        {
            (edits ??= []).Add(new AuthorityEdit(valueStart, valueEnd, bare));
        }
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

    private static bool IsAuthorityName(ReadOnlySpan<byte> name, bool huffman)
    {
        if (!huffman)
        {
            return name.SequenceEqual(HpackStaticTable.AuthorityName);
        }

        Span<byte> decoded = stackalloc byte[HpackStaticTable.AuthorityName.Length];
        HpackHuffman.Decode(name, decoded);
        return decoded.SequenceEqual(HpackStaticTable.AuthorityName);
    }

    /// <summary>The name length and ":authority?" of the entry at <paramref name="index"/>; throws when there is none.</summary>
    private (int NameLength, bool Authority) Resolve(int index)
    {
        if (index == 0)
        {
            throw new HpackException("header index 0 is not valid");
        }

        if (index <= HpackStaticTable.Count)
        {
            return (HpackStaticTable.NameLength(index), index == AuthorityStaticIndex);
        }

        var dynamicIndex = index - HpackStaticTable.Count;
        if (dynamicIndex > count)
        {
            throw new HpackException($"header index {index} is beyond the dynamic table ({count} entries)");
        }

        var entry = ring[(newest - (dynamicIndex - 1) + ring.Length) % ring.Length];
        return (entry.NameLength, entry.Authority);
    }

    private void Insert(Entry entry)
    {
        Evict(entry.Size);
        if (entry.Size > maxTableSize)
        {
            return; // RFC 7541 4.4: an entry larger than the table empties it and is not added
        }

        newest = (newest + 1) % ring.Length;
        ring[newest] = entry;
        count++;
        tableSize += entry.Size;
    }

    private void Evict(int room)
    {
        while (count > 0 && tableSize + room > maxTableSize)
        {
            tableSize -= ring[(newest - (count - 1) + ring.Length) % ring.Length].Size;
            count--;
        }
    }

    private static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, ref int at, out bool huffman)
    {
        if (at >= block.Length)
        {
            throw new HpackException("header block ends before a string literal");
        }

        huffman = (block[at] & 0x80) != 0;
        var length = ReadInteger(block, ref at, 7);
        if (length > block.Length - at)
        {
            throw new HpackException($"string literal of {length} octets runs past the end of the header block");
        }

        var raw = block.Slice(at, length);
        at += length;
        return raw;
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

    /// <summary>Writes an HPACK integer with an N-bit prefix (RFC 7541 5.1); <paramref name="flags"/> fills the bits above the prefix.</summary>
    public static int WriteInteger(Span<byte> destination, byte flags, int prefixBits, int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }

        destination[0] = (byte)(flags | mask);
        var at = 1;
        value -= mask;
        while (value >= 0x80)
        {
            destination[at++] = (byte)((value & 0x7F) | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }

    /// <summary>A mirrored dynamic table entry: its name and value lengths in the client's table and whether its name is :authority.</summary>
    private readonly record struct Entry(int NameLength, int ValueLength, bool Authority)
    {
        public int Size => NameLength + ValueLength + EntryOverhead;
    }
}

/// <summary>An :authority string literal at [<see cref="ValueStart"/>, <see cref="ValueEnd"/>) of a block fragment whose value must become <see cref="Bare"/>.</summary>
internal readonly record struct AuthorityEdit(int ValueStart, int ValueEnd, byte[] Bare);
