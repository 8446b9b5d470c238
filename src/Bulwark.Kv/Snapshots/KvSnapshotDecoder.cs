using System.Buffers.Binary;
using System.IO.Hashing;

namespace Bulwark.Kv.Snapshots;

/// <summary>
/// Decodes the key-value store's snapshot encoding (what <see cref="KvSnapshotEncoder"/> writes): buffered, hashes
/// what it consumes and verifies the trailer. Not to be confused with Bulwark.Storage's snapshot files, which carry
/// these bytes as their opaque data.
/// </summary>
internal sealed class KvSnapshotDecoder
{
    private readonly Stream stream;
    private readonly byte[] buffer = new byte[64 * 1024];
    private readonly XxHash64 hash = new();
    private int position;
    private int length;

    // Start of the consumed bytes not yet added to the hash.
    private int hashedUpTo;

    public KvSnapshotDecoder(Stream stream)
    {
        this.stream = stream;
    }

    public void ReadRaw(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (position == length)
            {
                Refill(1);
            }

            int n = Math.Min(destination.Length, length - position);
            buffer.AsSpan(position, n).CopyTo(destination);
            position += n;
            destination = destination[n..];
        }
    }

    public uint ReadUInt32()
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadRaw(bytes);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    public ulong ReadVarUInt()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position == length)
            {
                Refill(1);
            }

            byte b = buffer[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw Corrupt("a variable-length integer is longer than 10 bytes");
    }

    public long ReadVarInt()
    {
        ulong raw = ReadVarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A length-prefixed byte string of at most <paramref name="maxLength"/> bytes.</summary>
    public byte[] ReadBytes(int maxLength)
    {
        ulong length = ReadVarUInt();
        if (length > (ulong)maxLength)
        {
            throw Corrupt($"a byte string claims {length} bytes (limit {maxLength})");
        }

        if (length == 0)
        {
            return [];
        }

        var bytes = new byte[length];
        ReadRaw(bytes);
        return bytes;
    }

    /// <summary>Reads the trailer and compares it with the hash of everything before it.</summary>
    public void VerifyChecksum()
    {
        hash.Append(buffer.AsSpan(hashedUpTo, position - hashedUpTo));
        hashedUpTo = position;
        ulong computed = hash.GetCurrentHashAsUInt64();
        Span<byte> trailer = stackalloc byte[8];
        ReadRaw(trailer);
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(trailer);
        if (stored != computed)
        {
            throw Corrupt($"checksum mismatch (stored {stored:x16}, computed {computed:x16})");
        }
    }

    public static InvalidDataException Corrupt(string what) => new($"The key-value snapshot is corrupt: {what}.");

    private void Refill(int needed)
    {
        hash.Append(buffer.AsSpan(hashedUpTo, position - hashedUpTo));
        int remaining = length - position;
        Array.Copy(buffer, position, buffer, 0, remaining);
        length = remaining;
        position = 0;
        hashedUpTo = 0;
        while (length < needed)
        {
            int n = stream.Read(buffer, length, buffer.Length - length);
            if (n == 0)
            {
                throw Corrupt("it ends early (truncated)");
            }

            length += n;
        }
    }
}
