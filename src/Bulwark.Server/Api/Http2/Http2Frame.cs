using System.Buffers;
using System.Buffers.Binary;

namespace Bulwark.Server.Api.Http2;

/// <summary>HTTP/2 frame header constants and parsing (RFC 9113 section 4.1).</summary>
internal static class Http2Frame
{
    public const int HeaderLength = 9;
    public const byte TypeHeaders = 0x1;
    public const byte TypeContinuation = 0x9;
    public const byte FlagEndStream = 0x1;
    public const byte FlagEndHeaders = 0x4;
    public const byte FlagPadded = 0x8;
    public const byte FlagPriority = 0x20;

    /// <summary>The smallest SETTINGS_MAX_FRAME_SIZE a peer may advertise, so frames no larger are always accepted.</summary>
    public const int MinMaxFrameSize = 16384;

    /// <summary>The client connection preface (RFC 9113 section 3.4).</summary>
    public static ReadOnlySpan<byte> ClientPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>A parsed 9-octet frame header.</summary>
    public readonly record struct Header(int Length, byte Type, byte Flags, uint StreamId)
    {
        public static Header Parse(ReadOnlySpan<byte> bytes) => new(
            (bytes[0] << 16) | (bytes[1] << 8) | bytes[2],
            bytes[3],
            bytes[4],
            BinaryPrimitives.ReadUInt32BigEndian(bytes[5..]) & 0x7FFF_FFFF);

        public static Header Parse(in ReadOnlySequence<byte> buffer, long offset)
        {
            var first = buffer.FirstSpan;
            if (offset + HeaderLength <= first.Length)
            {
                return Parse(first[(int)offset..]); // the usual case: no slicing of the sequence
            }

            Span<byte> bytes = stackalloc byte[HeaderLength];
            buffer.Slice(offset, HeaderLength).CopyTo(bytes);
            return Parse(bytes);
        }

        public void Write(Span<byte> destination)
        {
            destination[0] = (byte)(Length >> 16);
            destination[1] = (byte)(Length >> 8);
            destination[2] = (byte)Length;
            destination[3] = Type;
            destination[4] = Flags;
            BinaryPrimitives.WriteUInt32BigEndian(destination[5..], StreamId);
        }
    }
}
