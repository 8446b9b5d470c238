using System.Text;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Bench.Http2Shim;

/// <summary>
/// The bytes a gRPC client writes for one unary call (HEADERS, then DATA with END_STREAM), as the two client stacks
/// that talk to Bulwark encode them: grpc-dotnet (.NET's HttpClient: static-table names, literals without indexing,
/// no Huffman) and grpc-go as in etcdctl 3.4 (golang.org/x/net/http2/hpack: every field indexed, Huffman when
/// shorter, so after the first call a block is mostly one-octet references to the dynamic table, plus a new
/// grpc-timeout literal per call that keeps the table churning).
/// </summary>
internal sealed class ClientCalls
{
    private readonly string authority;
    private readonly bool goClient;
    private readonly byte[] message;
    private readonly List<(string Name, string Value)> goTable = [];
    private uint streamId = 1;
    private int call;

    public ClientCalls(string authority, bool goClient, int messageBytes)
    {
        this.authority = authority;
        this.goClient = goClient;
        message = new byte[messageBytes];
        new Random(7).NextBytes(message);
        message[0] = 0; // gRPC message prefix: not compressed
    }

    /// <summary>The next call's frames; stream ids advance by 2 as a client's do.</summary>
    public byte[] Next()
    {
        var fields = new List<(string, string)>
        {
            (":method", "POST"), (":scheme", "http"), (":path", "/etcdserverpb.KV/Put"), (":authority", authority),
        };
        if (goClient)
        {
            fields.Add(("content-type", "application/grpc"));
            fields.Add(("user-agent", "grpc-go/1.26.0"));
            fields.Add(("te", "trailers"));
            fields.Add(("grpc-timeout", (4_999_000 + (call % 997)).ToString(System.Globalization.CultureInfo.InvariantCulture) + "u"));
        }
        else
        {
            fields.Add(("user-agent", "grpc-dotnet/2.71.0 (.NET 10.0.0; CLR 10.0.0; net10.0; linux; x64)"));
            fields.Add(("te", "trailers"));
            fields.Add(("grpc-accept-encoding", "identity,gzip,deflate"));
            fields.Add(("content-type", "application/grpc"));
        }

        var block = goClient ? EncodeGo(fields) : EncodeDotnet(fields);
        var output = new List<byte>();
        AddFrame(output, Http2Frame.TypeHeaders, Http2Frame.FlagEndHeaders, streamId, block);
        for (var at = 0; at < message.Length; at += Http2Frame.MinMaxFrameSize)
        {
            var chunk = Math.Min(Http2Frame.MinMaxFrameSize, message.Length - at);
            var last = at + chunk == message.Length;
            AddFrame(output, 0x0, last ? Http2Frame.FlagEndStream : (byte)0, streamId, message.AsSpan(at, chunk));
        }

        streamId += 2;
        call++;
        return [.. output];
    }

    public static void AddFrame(List<byte> output, byte type, byte flags, uint stream, ReadOnlySpan<byte> payload)
    {
        var header = new byte[Http2Frame.HeaderLength];
        new Http2Frame.Header(payload.Length, type, flags, stream).Write(header);
        output.AddRange(header);
        output.AddRange(payload);
    }

    private static byte[] EncodeDotnet(List<(string Name, string Value)> fields)
    {
        var output = new List<byte>();
        foreach (var (name, value) in fields)
        {
            var exact = StaticIndex(name, value);
            if (exact > 0)
            {
                Hpack.WriteInteger(output, 0x80, 7, exact);
                continue;
            }

            var nameIndex = StaticNameIndex(name);
            Hpack.WriteInteger(output, 0x00, 4, nameIndex);
            if (nameIndex == 0)
            {
                Hpack.WriteString(output, name, huffman: false);
            }

            Hpack.WriteString(output, value, huffman: false);
        }

        return [.. output];
    }

    /// <summary>grpc-go's encoder: exact match indexed, else literal with incremental indexing (indexed name when known).</summary>
    private byte[] EncodeGo(List<(string Name, string Value)> fields)
    {
        var output = new List<byte>();
        foreach (var (name, value) in fields)
        {
            var exact = StaticIndex(name, value);
            var dynamic = goTable.FindIndex(e => e.Name == name && e.Value == value);
            if (exact == 0 && dynamic >= 0)
            {
                exact = 62 + dynamic;
            }

            if (exact > 0)
            {
                Hpack.WriteInteger(output, 0x80, 7, exact);
                continue;
            }

            var nameIndex = StaticNameIndex(name);
            var dynamicName = goTable.FindIndex(e => e.Name == name);
            if (nameIndex == 0 && dynamicName >= 0)
            {
                nameIndex = 62 + dynamicName;
            }

            Hpack.WriteInteger(output, 0x40, 6, nameIndex);
            if (nameIndex == 0)
            {
                Hpack.WriteString(output, name, huffman: true);
            }

            Hpack.WriteString(output, value, huffman: true);
            goTable.Insert(0, (name, value));
            var size = goTable.Sum(e => e.Name.Length + e.Value.Length + 32);
            while (size > 4096)
            {
                var last = goTable[^1];
                size -= last.Name.Length + last.Value.Length + 32;
                goTable.RemoveAt(goTable.Count - 1);
            }
        }

        return [.. output];
    }

    private static int StaticIndex(string name, string value) => (name, value) switch
    {
        (":method", "POST") => 3,
        (":scheme", "http") => 6,
        _ => 0,
    };

    private static int StaticNameIndex(string name) => name switch
    {
        ":authority" => 1,
        ":path" => 4,
        "content-type" => 31,
        "user-agent" => 58,
        _ => 0,
    };

    private static class Hpack
    {
        public static void WriteString(List<byte> output, string value, bool huffman)
        {
            var bytes = Encoding.Latin1.GetBytes(value);
            if (huffman && HpackHuffman.EncodedLength(bytes) < bytes.Length)
            {
                var encoded = HpackHuffman.Encode(bytes);
                WriteInteger(output, 0x80, 7, encoded.Length);
                output.AddRange(encoded);
            }
            else
            {
                WriteInteger(output, 0x00, 7, bytes.Length);
                output.AddRange(bytes);
            }
        }

        public static void WriteInteger(List<byte> output, byte flags, int prefixBits, int value)
        {
            var mask = (1 << prefixBits) - 1;
            if (value < mask)
            {
                output.Add((byte)(flags | value));
                return;
            }

            output.Add((byte)(flags | mask));
            value -= mask;
            while (value >= 0x80)
            {
                output.Add((byte)((value & 0x7F) | 0x80));
                value >>= 7;
            }

            output.Add((byte)value);
        }
    }
}
