using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using Bulwark.Consensus;

namespace Bulwark.Storage.Snapshots;

/// <summary>
/// A snapshot file (integers little-endian):
/// <code>
/// header (32): magic "BSNP" u32 | version u16 | zero u16 | index u64 | term u64 | config length u32 | crc32c u32 of bytes 0..28
/// config: voters, learners, outgoing voters, each as count u32 then ids u64
/// data: the application's bytes
/// trailer (16): data length u64 | crc32c u32 of header + config + data | magic "BSNE" u32
/// </code>
/// The trailer lets a snapshot be written as a stream of unknown length and still be verified end to end.
/// </summary>
internal static class SnapshotFormat
{
    public const uint Magic = 0x504E5342; // "BSNP"
    public const uint EndMagic = 0x454E5342; // "BSNE"
    public const ushort Version = 1;
    public const int HeaderSize = 32;
    public const int TrailerSize = 16;
    public const string Extension = ".snap";
    public const string TempExtension = ".snap.tmp";

    public static string FileName(ulong index, ulong term) =>
        $"{index.ToString("x16", CultureInfo.InvariantCulture)}-{term.ToString("x16", CultureInfo.InvariantCulture)}{Extension}";

    public static bool TryParseName(string name, out ulong index, out ulong term)
    {
        index = 0;
        term = 0;
        return name.Length == 33 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal) && name[16] == '-' &&
               ulong.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out index) &&
               ulong.TryParse(name.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out term);
    }

    public static byte[] EncodeHead(SnapshotMetadata metadata)
    {
        var config = metadata.Config;
        var configLength = 12 + 8 * (config.Voters.Count + config.Learners.Count + config.OutgoingVoters.Count);
        var head = new byte[HeaderSize + configLength];
        var span = head.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], metadata.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], metadata.Term);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)configLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], Crc32C.Compute(span[..28]));
        var at = HeaderSize;
        foreach (var set in new[] { config.Voters, config.Learners, config.OutgoingVoters })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)set.Count);
            at += 4;
            foreach (var id in set)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span[at..], id);
                at += 8;
            }
        }

        return head;
    }

    /// <summary>Parses the fixed header; null reason when valid.</summary>
    public static string? CheckHeader(ReadOnlySpan<byte> header, out ulong index, out ulong term, out int configLength)
    {
        index = 0;
        term = 0;
        configLength = 0;
        if (header.Length < HeaderSize)
        {
            return "file shorter than a snapshot header";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            return "bad snapshot magic";
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[28..]) != Crc32C.Compute(header[..28]))
        {
            return "snapshot header checksum mismatch";
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
        {
            return $"unsupported snapshot format version {version}";
        }

        index = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        term = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        configLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header[24..]), int.MaxValue);
        return null;
    }

    public static ClusterConfig? DecodeConfig(ReadOnlySpan<byte> config)
    {
        var sets = new ImmutableSortedSet<ulong>[3];
        var at = 0;
        for (var s = 0; s < 3; s++)
        {
            if (at + 4 > config.Length)
            {
                return null;
            }

            var count = BinaryPrimitives.ReadUInt32LittleEndian(config[at..]);
            at += 4;
            if (count > (uint)(config.Length - at) / 8)
            {
                return null;
            }

            var ids = ImmutableSortedSet.CreateBuilder<ulong>();
            for (var i = 0; i < count; i++)
            {
                ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(config[at..]));
                at += 8;
            }

            sets[s] = ids.ToImmutable();
        }

        return at == config.Length ? new ClusterConfig(sets[0], sets[1], sets[2]) : null;
    }

    public static void WriteTrailer(Span<byte> trailer, long dataLength, uint crc)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, (ulong)dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[8..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[12..], EndMagic);
    }
}
