using System.Buffers.Binary;

namespace Bulwark.Storage.Wal;

/// <summary>
/// The on-disk layout of a WAL segment (all integers little-endian):
/// <code>
/// segment header (32 bytes): magic "BWAL" u32 | version u16 | reserved u16 | sequence u64 | first index u64 | crc32c u32 of bytes 0..24 | zero u32
/// record: payload length u32 | type u8 | zero u8[3] | crc32c u32 of (bytes 0..8 of this header + payload) | zero u32 | payload | zero padding to 8
/// </code>
/// A record header of 16 zero bytes marks the end of the written part (segments are preallocated with zeros).
/// </summary>
internal static class WalFormat
{
    public const uint Magic = 0x4C415742; // "BWAL"
    public const ushort Version = 1;
    public const int SegmentHeaderSize = 32;
    public const int RecordHeaderSize = 16;
    public const int EntryFixedSize = 17; // term u64, index u64, type u8
    public const int HardStateSize = 24;
    public const int MarkerSize = 24; // index u64, term u64, flags u64 (bit 0: the log after the index is kept)

    public static int Align8(int n) => (n + 7) & ~7;

    public static long RecordSize(int payloadLength) => RecordHeaderSize + Align8(payloadLength);

    public static void WriteSegmentHeader(Span<byte> destination, ulong sequence, ulong firstIndex)
    {
        destination[..SegmentHeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], firstIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Crc32C.Compute(destination[..24]));
    }

    /// <summary>Null when the header is valid, else why not.</summary>
    public static string? CheckSegmentHeader(ReadOnlySpan<byte> header, out ulong sequence, out ulong firstIndex)
    {
        sequence = 0;
        firstIndex = 0;
        if (header.Length < SegmentHeaderSize)
        {
            return "segment shorter than its header";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            return "bad segment magic";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[24..]) != Crc32C.Compute(header[..24]))
        {
            return "segment header checksum mismatch";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[28..]) != 0)
        {
            return "segment header has non-zero reserved bytes";
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
        {
            return $"unsupported segment format version {version} (this build reads {Version})";
        }

        sequence = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        firstIndex = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        return null;
    }

    /// <summary>Writes a record (header, payload already at destination[16..16+payloadLength], padding) and its CRC.</summary>
    public static int SealRecord(Span<byte> destination, RecordType type, int payloadLength)
    {
        var total = (int)RecordSize(payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payloadLength);
        destination[4] = (byte)type;
        destination[5] = 0;
        destination[6] = 0;
        destination[7] = 0;
        destination[(RecordHeaderSize + payloadLength)..total].Clear();
        var crc = Crc32C.Update(uint.MaxValue, destination[..8]);
        crc = ~Crc32C.Update(crc, destination.Slice(RecordHeaderSize, payloadLength));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0);
        return total;
    }

    /// <summary>
    /// Parses the record at the start of <paramref name="data"/>. Returns <see cref="RecordCheck.End"/> for an all-zero
    /// header, <see cref="RecordCheck.Bad"/> (with a reason) for anything that does not verify.
    /// </summary>
    public static RecordCheck CheckRecord(ReadOnlySpan<byte> data, out RecordType type, out int payloadLength, out string? reason)
    {
        type = default;
        payloadLength = 0;
        reason = null;
        if (data.Length < RecordHeaderSize)
        {
            if (data.IndexOfAnyExcept((byte)0) < 0)
            {
                return RecordCheck.End;
            }

            reason = "record header cut short by the end of the segment";
            return RecordCheck.Bad;
        }

        var header = data[..RecordHeaderSize];
        if (header.IndexOfAnyExcept((byte)0) < 0)
        {
            return RecordCheck.End;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var rawType = header[4];
        if (header[5] != 0 || header[6] != 0 || header[7] != 0 || BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) != 0)
        {
            reason = "record header has non-zero reserved bytes";
            return RecordCheck.Bad;
        }

        if (rawType is < (byte)RecordType.Entry or > (byte)RecordType.SnapshotMarker)
        {
            reason = $"unknown record type {rawType}";
            return RecordCheck.Bad;
        }

        if (length > (ulong)(data.Length - RecordHeaderSize) || RecordSize((int)length) > data.Length)
        {
            reason = $"record length {length} runs past the end of the segment";
            return RecordCheck.Bad;
        }

        var len = (int)length;
        var crc = Crc32C.Update(uint.MaxValue, header[..8]);
        crc = ~Crc32C.Update(crc, data.Slice(RecordHeaderSize, len));
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(header[8..]))
        {
            reason = "record checksum mismatch";
            return RecordCheck.Bad;
        }

        var total = (int)RecordSize(len);
        if (data[(RecordHeaderSize + len)..total].IndexOfAnyExcept((byte)0) >= 0)
        {
            reason = "record padding is not zero";
            return RecordCheck.Bad;
        }

        var expected = (RecordType)rawType switch
        {
            RecordType.HardState => HardStateSize,
            RecordType.SnapshotMarker => MarkerSize,
            _ => -1,
        };
        if ((expected >= 0 && len != expected) || (expected < 0 && len < EntryFixedSize))
        {
            reason = $"record of type {(RecordType)rawType} has impossible length {len}";
            return RecordCheck.Bad;
        }

        type = (RecordType)rawType;
        payloadLength = len;
        return RecordCheck.Valid;
    }
}

internal enum RecordType : byte
{
    Entry = 1,
    HardState = 2,
    SnapshotMarker = 3,
}

internal enum RecordCheck
{
    Valid,
    End,
    Bad,
}
