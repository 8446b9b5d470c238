using System.Buffers.Binary;

namespace Bulwark.Server.Transport;

/// <summary>
/// Reads primitives from a frame body that the caller owns, so byte runs are returned as slices (no copies).
/// Every read checks the remaining length and throws <see cref="WireFormatException"/> naming the field.
/// </summary>
internal struct WireReader(ReadOnlyMemory<byte> body)
{
    private readonly ReadOnlyMemory<byte> body = body;
    private int position;

    public readonly int Remaining => body.Length - position;

    public byte ReadByte(string field)
    {
        Require(1, field);
        return body.Span[position++];
    }

    public ulong ReadVarint(string field)
    {
        ulong result = 0;
        var span = body.Span;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw new WireFormatException($"frame truncated while reading {field}");
            }

            var b = span[position++];
            if (shift == 63 && b > 1)
            {
                throw new WireFormatException($"varint for {field} overflows 64 bits");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new WireFormatException($"varint for {field} is longer than 10 bytes");
    }

    public uint ReadUInt32(string field)
    {
        Require(4, field);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(body.Span[position..]);
        position += 4;
        return value;
    }

    public ulong ReadUInt64(string field)
    {
        Require(8, field);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(body.Span[position..]);
        position += 8;
        return value;
    }

    /// <summary>A length-prefixed byte run; the length is checked against what is left before slicing.</summary>
    public ReadOnlyMemory<byte> ReadBytes(string field)
    {
        var length = ReadVarint(field + " length");
        if (length > (ulong)Remaining)
        {
            throw new WireFormatException($"{field} claims {length} bytes but only {Remaining} remain in the frame");
        }

        return ReadRaw((int)length, field);
    }

    public ReadOnlyMemory<byte> ReadRaw(int length, string field)
    {
        Require(length, field);
        var slice = body.Slice(position, length);
        position += length;
        return slice;
    }

    public ReadOnlyMemory<byte> ReadRest() => ReadRaw(Remaining, "rest");

    /// <summary>A count of items each at least <paramref name="minItemBytes"/> long: bounded by what is left, so a bogus count cannot allocate.</summary>
    public int ReadCount(string field, int minItemBytes)
    {
        var count = ReadVarint(field);
        if (count > (ulong)(Remaining / minItemBytes))
        {
            throw new WireFormatException($"{field} is {count} but the frame has room for at most {Remaining / minItemBytes}");
        }

        return (int)count;
    }

    public readonly void ExpectEnd(string what)
    {
        if (Remaining != 0)
        {
            throw new WireFormatException($"{Remaining} unexpected trailing bytes after {what}");
        }
    }

    private readonly void Require(int count, string field)
    {
        if (Remaining < count)
        {
            throw new WireFormatException($"frame truncated while reading {field}: need {count} bytes, {Remaining} remain");
        }
    }
}
