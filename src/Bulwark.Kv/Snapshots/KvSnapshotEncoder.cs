using System.Buffers.Binary;
using System.IO.Hashing;

namespace Bulwark.Kv.Snapshots;

/// <summary>
/// Encodes the key-value store's snapshot (read back by <see cref="KvSnapshotDecoder"/>): a buffered little-endian /
/// varint writer that hashes every byte it writes.
/// </summary>
internal sealed class KvSnapshotEncoder
{
    private readonly Stream stream;
    private readonly byte[] buffer = new byte[64 * 1024];
    private readonly XxHash64 hash = new();
    private int position;

    public KvSnapshotEncoder(Stream stream)
    {
        this.stream = stream;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (position == buffer.Length)
            {
                Flush();
            }

            int n = Math.Min(bytes.Length, buffer.Length - position);
            bytes[..n].CopyTo(buffer.AsSpan(position));
            position += n;
            bytes = bytes[n..];
        }
    }

    public void WriteUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        WriteRaw(bytes);
    }

    public void WriteVarUInt(ulong value)
    {
        if (buffer.Length - position < 10)
        {
            Flush();
        }

        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[position++] = (byte)value;
    }

    /// <summary>Zig-zag varint, so small negative numbers (lease ids may be negative) stay short.</summary>
    public void WriteVarInt(long value) => WriteVarUInt((ulong)((value << 1) ^ (value >> 63)));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    /// <summary>Writes the hash of everything so far (not itself hashed) and flushes.</summary>
    public void Finish()
    {
        Flush();
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(checksum);
        stream.Flush();
    }

    /// <summary>Hands everything buffered (hashed) to the stream, without a checksum.</summary>
    public void Flush()
    {
        if (position == 0)
        {
            return;
        }

        hash.Append(buffer.AsSpan(0, position));
        stream.Write(buffer, 0, position);
        position = 0;
    }
}
