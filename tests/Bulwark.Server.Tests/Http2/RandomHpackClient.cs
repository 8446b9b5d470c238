using System.Text;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

/// <summary>
/// A client HPACK encoder that makes random valid choices (RFC 7541): indexed fields from both tables, literals with
/// incremental indexing, without indexing and never indexed, static, dynamic and new names, Huffman and plain strings,
/// table size updates at the start of a block, values large enough to evict, and :authority values that are URLs.
/// It keeps its own dynamic table, so every block it writes is what a conforming encoder could send next.
/// </summary>
internal sealed class RandomHpackClient(Random random)
{
    private static readonly string[] Authorities =
        ["127.0.0.1:2379", "http://127.0.0.1:2379", "https://node-1.example:2380/ignored?x", "unix://etcd.sock", "localhost:2379", "http://[::1]:2379"];

    private static readonly (string Name, int StaticIndex)[] Names =
        [(":authority", 1), (":path", 4), ("content-type", 31), ("user-agent", 58), ("authorization", 23), ("te", 0), ("grpc-timeout", 0), ("x-trace", 0)];

    private readonly List<(string Name, string Value)> table = [];
    private int maxSize = HpackAuthorityScanner.DefaultMaxTableSize;

    /// <summary>The next block, the fields the client meant, and whether any :authority literal in it is a URL.</summary>
    public (byte[] Block, List<string> Fields, bool UrlLiteral) NextBlock()
    {
        var output = new List<byte>();
        var fields = new List<string>();
        var urlLiteral = false;
        if (random.Next(8) == 0)
        {
            var updates = random.Next(1, 3);
            for (var u = 0; u < updates; u++)
            {
                maxSize = random.Next(3) == 0 ? 0 : random.Next(64, HpackAuthorityScanner.DefaultMaxTableSize + 1);
                HpackLiteralEncoder.WriteInteger(output, 0x20, 5, maxSize);
                Evict(0);
            }
        }

        output.Add(0x83); // :method POST
        fields.Add(":method: POST");
        var count = random.Next(1, 9);
        for (var f = 0; f < count; f++)
        {
            var dynamicIndex = table.Count > 0 && random.Next(3) == 0 ? random.Next(table.Count) : -1;
            if (dynamicIndex >= 0)
            {
                HpackLiteralEncoder.WriteInteger(output, 0x80, 7, HpackStaticTable.Count + 1 + dynamicIndex);
                fields.Add(Expected(table[dynamicIndex].Name, table[dynamicIndex].Value));
                continue;
            }

            var (name, staticIndex) = Names[random.Next(Names.Length)];
            var value = name == ":authority" ? Authorities[random.Next(Authorities.Length)]
                : random.Next(10) == 0 ? new string((char)('a' + random.Next(26)), random.Next(200, 3000))
                : "v" + random.Next(100_000);
            var kind = random.Next(3); // 0 incremental indexing, 1 without indexing, 2 never indexed
            var (flags, prefix) = kind switch { 0 => ((byte)0x40, 6), 1 => ((byte)0x00, 4), _ => ((byte)0x10, 4) };
            var dynamicName = table.FindIndex(e => e.Name == name);
            var nameIndex = staticIndex > 0 && random.Next(4) != 0 ? staticIndex
                : dynamicName >= 0 && random.Next(2) == 0 ? HpackStaticTable.Count + 1 + dynamicName
                : 0;
            HpackLiteralEncoder.WriteInteger(output, flags, prefix, nameIndex);
            if (nameIndex == 0)
            {
                AddString(output, name);
            }

            AddString(output, value);
            fields.Add(Expected(name, value));
            urlLiteral |= name == ":authority" && value.Contains("://", StringComparison.Ordinal);
            if (kind == 0)
            {
                Insert(name, value);
            }
        }

        return ([.. output], fields, urlLiteral);
    }

    /// <summary>What Kestrel must decode: the field as sent, a URL :authority as its bare authority.</summary>
    private static string Expected(string name, string value)
    {
        if (name == ":authority" && value.Contains("://", StringComparison.Ordinal))
        {
            var rest = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
            var end = rest.IndexOfAny(['/', '?', '#']);
            value = end < 0 ? rest : rest[..end];
        }

        return name + ": " + value;
    }

    private void AddString(List<byte> output, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        if (random.Next(2) == 0)
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

    private void Insert(string name, string value)
    {
        var size = name.Length + value.Length + 32;
        Evict(size);
        if (size <= maxSize)
        {
            table.Insert(0, (name, value));
        }
    }

    private void Evict(int room)
    {
        while (table.Count > 0 && table.Sum(e => e.Name.Length + e.Value.Length + 32) + room > maxSize)
        {
            table.RemoveAt(table.Count - 1);
        }
    }
}
