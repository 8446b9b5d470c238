using System.Buffers.Binary;
using System.Numerics;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;

namespace Bulwark.Kv;

/// <summary>What <see cref="MvccStore.HashKV"/> answers: etcd's HashKV fields.</summary>
/// <param name="Hash">CRC-32C (Castagnoli) of the key states up to <paramref name="HashRevision"/>.</param>
/// <param name="HashRevision">The revision hashed: the one asked for, or the store revision for 0.</param>
/// <param name="Revision">The store revision when the hash was taken.</param>
/// <param name="CompactRevision">The compact revision when the hash was taken.</param>
public readonly record struct KvHash(uint Hash, long HashRevision, long Revision, long CompactRevision);

public sealed partial class MvccStore
{
    /// <summary>
    /// etcd's HashKV: a CRC-32C (Castagnoli, as etcd) over every retained state of every key with a revision at or
    /// below <paramref name="revision"/> (0 = the current revision), keys in key order and each key's states oldest
    /// first. Retained states are those after the compact revision plus the one each key had at it, as etcd's "keep"
    /// set; so members that applied the same entries give the same hash, whether they got there by log or snapshot.
    /// Not bit-compatible with etcd's hash (etcd hashes its bbolt rows), only comparable between Bulwark members.
    /// </summary>
    /// <exception cref="KvException">The revision is in the future, or below the compact revision.</exception>
    public KvHash HashKV(long revision)
    {
        EnsureNotWriting();
        if (revision > 0 && revision < compactRevision)
        {
            throw KvErrors.Compacted();
        }

        if (revision > currentRevision)
        {
            throw KvErrors.FutureRevision();
        }

        long upTo = revision > 0 ? revision : currentRevision;
        uint crc = uint.MaxValue;
        Span<byte> numbers = stackalloc byte[8 * 5];
        var cursor = index.First();
        while (cursor.TryNext(out var record))
        {
            // Only the retained states, so history whose compaction a snapshot defers is not hashed.
            var (start, end) = record.Retained(compactRevision, upTo);
            if (start == end)
            {
                continue;
            }

            BinaryPrimitives.WriteInt32LittleEndian(numbers, record.Key.Length);
            crc = Crc32C(crc, numbers[..4]);
            crc = Crc32C(crc, record.Key);
            for (int i = start; i < end; i++)
            {
                crc = HashEntry(crc, record.StateAt(i), numbers);
            }
        }

        return new KvHash(~crc, upTo, currentRevision, compactRevision);
    }

    private static uint HashEntry(uint crc, in RevisionEntry entry, Span<byte> numbers)
    {
        BinaryPrimitives.WriteInt64LittleEndian(numbers, entry.ModRevision);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], entry.CreateRevision);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[16..], entry.Version);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[24..], entry.Lease);
        // -1 marks a tombstone, so a deleted key never hashes like one with an empty value.
        BinaryPrimitives.WriteInt64LittleEndian(numbers[32..], entry.Value?.Length ?? -1);
        crc = Crc32C(crc, numbers);
        return entry.Value is null ? crc : Crc32C(crc, entry.Value);
    }

    /// <summary>CRC-32C update without the final inversion (BitOperations uses the CPU's crc32 instruction when it has one).</summary>
    private static uint Crc32C(uint crc, ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            bytes = bytes[8..];
        }

        foreach (var b in bytes)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
