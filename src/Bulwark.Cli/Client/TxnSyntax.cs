using System.Globalization;
using System.Text;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>
/// The txn language of `bulwark txn`, the same lines etcdctl's txn reads:
/// compares like <c>value("k") = "v"</c>, <c>version("k") &gt; "2"</c>, <c>create("k") = "0"</c>,
/// <c>mod("k") &lt; "9"</c>, <c>lease("k") = "0"</c> (operators = != &lt; &gt;), and operations
/// <c>put KEY VALUE</c>, <c>get KEY [--prefix]</c>, <c>del KEY [--prefix]</c>. Words may be double-quoted
/// (with \" and \\ escapes). With <c>hex</c>, keys and values are hex (see <see cref="KvBytes.ParseHex"/>), so any bytes can be
/// compared and written.
/// </summary>
public static class TxnSyntax
{
    /// <summary>Parses etcdctl's stdin form: compares, a blank line, success operations, a blank line, failure operations.</summary>
    public static TxnRequest ParseScript(string script, bool hex = false)
    {
        ArgumentNullException.ThrowIfNull(script);
        var sections = new List<List<string>> { new() };
        foreach (var raw in script.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                if (sections.Count < 3)
                {
                    sections.Add([]);
                }

                continue;
            }

            sections[^1].Add(line);
        }

        while (sections.Count < 3)
        {
            sections.Add([]);
        }

        return Build(sections[0], sections[1], sections[2], hex);
    }

    /// <summary>Builds a txn from compare lines and then/else operation lines.</summary>
    public static TxnRequest Build(IEnumerable<string> compares, IEnumerable<string> then, IEnumerable<string> otherwise, bool hex = false)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compares.Select(c => ParseCompare(c, hex)));
        txn.Success.AddRange(then.Select(o => ParseOperation(o, hex)));
        txn.Failure.AddRange(otherwise.Select(o => ParseOperation(o, hex)));
        return txn;
    }

    public static Compare ParseCompare(string line, bool hex = false)
    {
        ArgumentNullException.ThrowIfNull(line);
        var open = line.IndexOf('(', StringComparison.Ordinal);
        var close = line.LastIndexOf(')');
        if (open <= 0 || close < open)
        {
            throw Bad(line, "a compare looks like value(\"key\") = \"v\"");
        }

        var target = line[..open].Trim().ToLowerInvariant();
        var key = Unquote(line[(open + 1)..close].Trim(), line);
        var rest = Tokenize(line[(close + 1)..], line);
        if (rest.Count != 2)
        {
            throw Bad(line, "a compare needs an operator (= != < >) and one value after the key");
        }

        var compare = new Compare
        {
            Key = Bytes(key, hex, line),
            Result = rest[0] switch
            {
                "=" or "==" => Compare.Types.CompareResult.Equal,
                "!=" => Compare.Types.CompareResult.NotEqual,
                "<" => Compare.Types.CompareResult.Less,
                ">" => Compare.Types.CompareResult.Greater,
                _ => throw Bad(line, $"unknown operator '{rest[0]}'; use = != < >"),
            },
        };
        var value = rest[1];
        switch (target)
        {
            case "value" or "val":
                compare.Target = Compare.Types.CompareTarget.Value;
                compare.Value = Bytes(value, hex, line);
                break;
            case "version" or "ver":
                compare.Target = Compare.Types.CompareTarget.Version;
                compare.Version = Number(value, line);
                break;
            case "create" or "c":
                compare.Target = Compare.Types.CompareTarget.Create;
                compare.CreateRevision = Number(value, line);
                break;
            case "mod" or "m":
                compare.Target = Compare.Types.CompareTarget.Mod;
                compare.ModRevision = Number(value, line);
                break;
            case "lease":
                compare.Target = Compare.Types.CompareTarget.Lease;
                compare.Lease = Number(value, line);
                break;
            default:
                throw Bad(line, $"unknown compare target '{target}'; use value, version, create, mod or lease");
        }

        return compare;
    }

    public static RequestOp ParseOperation(string line, bool hex = false)
    {
        ArgumentNullException.ThrowIfNull(line);
        var words = Tokenize(line, line);
        var prefix = words.Remove("--prefix");
        if (words.Count == 0)
        {
            throw Bad(line, "empty operation");
        }

        switch (words[0].ToLowerInvariant())
        {
            case "put" when words.Count == 3 && !prefix:
                return new RequestOp { RequestPut = new PutRequest { Key = Key(words[1], hex, line), Value = Bytes(words[2], hex, line) } };
            case "get" when words.Count == 2:
                var range = new RangeRequest { Key = Key(words[1], hex, line) };
                if (prefix)
                {
                    range.RangeEnd = PrefixEnd(range.Key);
                }

                return new RequestOp { RequestRange = range };
            case "del" or "delete" when words.Count == 2:
                var delete = new DeleteRangeRequest { Key = Key(words[1], hex, line) };
                if (prefix)
                {
                    delete.RangeEnd = PrefixEnd(delete.Key);
                }

                return new RequestOp { RequestDeleteRange = delete };
            default:
                throw Bad(line, "an operation is put KEY VALUE, get KEY [--prefix] or del KEY [--prefix]");
        }
    }

    /// <summary>The end of the range holding every key that starts with <paramref name="prefix"/> (etcd's rule).</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var bytes = prefix.ToByteArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0); // every byte is 0xff (or the prefix is empty): all keys from here on
    }

    private static ByteString Key(string key, bool hex, string line)
    {
        var bytes = Bytes(key, hex, line);
        return bytes.IsEmpty ? throw Bad(line, "the key is empty") : bytes;
    }

    private static ByteString Bytes(string word, bool hex, string line)
    {
        try
        {
            return KvBytes.FromArgument(word, hex, "txn");
        }
        catch (ClientInputException e)
        {
            throw Bad(line, e.Reason);
        }
    }

    private static long Number(string value, string line) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Bad(line, $"'{value}' is not an integer");

    private static string Unquote(string word, string line)
    {
        var words = Tokenize(word, line);
        return words.Count == 1 ? words[0] : throw Bad(line, "the key in a compare must be one word, e.g. value(\"key\")");
    }

    private static List<string> Tokenize(string text, string line)
    {
        var words = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var word = new StringBuilder();
            if (text[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw Bad(line, "a quoted word is not closed");
                    }

                    var c = text[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\' && i < text.Length)
                    {
                        c = text[i++];
                    }

                    word.Append(c);
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    word.Append(text[i++]);
                }
            }

            words.Add(word.ToString());
        }

        return words;
    }

    private static ClientInputException Bad(string line, string reason) => new("txn", $"{reason} (in: {line})");
}
