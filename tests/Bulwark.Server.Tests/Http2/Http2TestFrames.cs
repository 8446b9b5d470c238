using System.Text;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

/// <summary>Builds client frames and header blocks the way grpc-go's HPACK encoder does (incremental indexing, Huffman).</summary>
internal static class Http2TestFrames
{
    public static byte[] Frame(byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2Frame.HeaderLength + payload.Length];
        new Http2Frame.Header(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame.AsSpan(Http2Frame.HeaderLength));
        return frame;
    }

    public static byte[] Headers(uint streamId, byte[] block, byte flags = Http2Frame.FlagEndHeaders) =>
        Frame(Http2Frame.TypeHeaders, flags, streamId, block);

    /// <summary>Literal with incremental indexing, indexed name, Huffman (or plain) value.</summary>
    public static byte[] IndexedNameLiteral(int staticNameIndex, string value, bool huffman = true)
    {
        var output = new List<byte>();
        HpackLiteralEncoder.WriteInteger(output, 0x40, 6, staticNameIndex);
        AddString(output, value, huffman);
        return [.. output];
    }

    /// <summary>Literal with incremental indexing, new name.</summary>
    public static byte[] NewNameLiteral(string name, string value, bool huffman = true)
    {
        var output = new List<byte> { 0x40 };
        AddString(output, name, huffman);
        AddString(output, value, huffman);
        return [.. output];
    }

    public static byte[] Indexed(int index)
    {
        var output = new List<byte>();
        HpackLiteralEncoder.WriteInteger(output, 0x80, 7, index);
        return [.. output];
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>A typical first gRPC request block from grpc-go with the given :authority.</summary>
    public static byte[] GrpcRequestBlock(string authority, string path, bool huffman = true) => Concat(
        Indexed(3), // :method POST
        Indexed(6), // :scheme http
        IndexedNameLiteral(4, path, huffman),
        IndexedNameLiteral(1, authority, huffman),
        IndexedNameLiteral(31, "application/grpc", huffman),
        NewNameLiteral("te", "trailers", huffman),
        NewNameLiteral("user-agent", "grpc-go/1.26.0", huffman));

    public static string[] Fields(IEnumerable<HeaderField> fields) => [.. fields.Select(f => f.ToString())];

    public static string Value(IEnumerable<HeaderField> fields, string name) =>
        Encoding.Latin1.GetString(fields.Single(f => Encoding.Latin1.GetString(f.Name) == name).Value);

    /// <summary>Splits a frame sequence into (header, payload) pairs.</summary>
    public static List<(Http2Frame.Header Header, byte[] Payload)> Split(ReadOnlySpan<byte> frames)
    {
        var result = new List<(Http2Frame.Header, byte[])>();
        while (!frames.IsEmpty)
        {
            var header = Http2Frame.Header.Parse(frames);
            result.Add((header, frames.Slice(Http2Frame.HeaderLength, header.Length).ToArray()));
            frames = frames[(Http2Frame.HeaderLength + header.Length)..];
        }

        return result;
    }

    private static void AddString(List<byte> output, string value, bool huffman)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        if (huffman)
        {
            var encoded = HpackHuffman.Encode(bytes);
            HpackLiteralEncoder.WriteInteger(output, 0x80, 7, encoded.Length);
            output.AddRange(encoded);
        }
        else
        {
            HpackLiteralEncoder.WriteInteger(output, 0x00, 7, bytes.Length);
            output.AddRange(bytes);
        }
    }
}
