using System.Buffers.Binary;

namespace Bulwark.Kv.Index;

/// <summary>
/// The first 8 bytes of a key as a big-endian number, zero-padded. Comparing two prefixes gives
/// the keys' byte-wise order whenever the prefixes differ, so index searches rarely touch the
/// key arrays themselves (each of which would be a cache miss).
/// </summary>
internal static class KeyPrefix
{
    public static ulong Of(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key);
        }

        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Byte-wise comparison of <paramref name="a"/> and <paramref name="b"/> given their prefixes.</summary>
    public static int Compare(ulong prefixA, byte[] a, ulong prefixB, ReadOnlySpan<byte> b)
    {
        if (prefixA != prefixB)
        {
            return prefixA < prefixB ? -1 : 1;
        }

        return a.AsSpan().SequenceCompareTo(b);
    }
}
