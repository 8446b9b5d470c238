using System.Buffers;
using System.Buffers.Binary;

namespace Bulwark.Server.Transport;

/// <summary>Appends primitives to an <see cref="IBufferWriter{T}"/>: unsigned LEB128 varints, fixed ints and byte runs.</summary>
internal ref struct WireWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> output = output;

    public int Written { get; private set; }

    public void WriteByte(byte value)
    {
        var span = output.GetSpan(1);
        span[0] = value;
        Advance(1);
    }

    public void WriteVarint(ulong value)
    {
        var span = output.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        Advance(n);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        Advance(4);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        Advance(8);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var span = output.GetSpan(1);
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>A length-prefixed byte run.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarint((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public static int VarintSize(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    private void Advance(int count)
    {
        output.Advance(count);
        Written += count;
    }
}
