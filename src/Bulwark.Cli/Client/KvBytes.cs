using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>
/// Keys and values are bytes. On the command line they are text (UTF-8) or, with <c>--hex</c>, hex: either plain
/// ("01feff") or etcdctl's printed form ("\x01\xfe\xff"), so what `get --hex` prints can be fed back. Output with
/// <c>--hex</c> is etcdctl's form.
/// </summary>
public static class KvBytes
{
    /// <summary>The bytes of a key or value given as an argument: UTF-8 text, or hex when <paramref name="hex"/>.</summary>
    public static ByteString FromArgument(string text, bool hex, string argument)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (RawArguments.TryGet(text, out var raw))
        {
            // Not valid UTF-8 on the command line: the shell's bytes, as they were (hex needs ASCII digits anyway).
            return hex ? ByteString.CopyFrom(ParseHex(Encoding.UTF8.GetString(raw), argument)) : ByteString.CopyFrom(raw);
        }

        return hex ? ByteString.CopyFrom(ParseHex(text, argument)) : ByteString.CopyFromUtf8(text);
    }

    /// <summary>Decodes "01feff", "01 fe ff" or "\x01\xfe\xff" (surrounding blanks ignored; empty is no bytes).</summary>
    public static byte[] ParseHex(string text, string argument)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = new StringBuilder(text.Length);
        var trimmed = text.Trim();
        for (var i = 0; i < trimmed.Length; i++)
        {
            var c = trimmed[i];
            if (c == '\\' && i + 1 < trimmed.Length && trimmed[i + 1] is 'x' or 'X')
            {
                i++;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                continue;
            }

            if (!char.IsAsciiHexDigit(c))
            {
                throw new ClientInputException(argument, $"--hex is set, but {Describe(argument)} has '{c}', which is not a hex digit (expected e.g. 01feff or \\x01\\xfe\\xff)");
            }

            digits.Append(c);
        }

        if (digits.Length % 2 != 0)
        {
            throw new ClientInputException(argument, $"--hex is set, but {Describe(argument)} has an odd number of hex digits ({digits.Length}); each byte is two digits");
        }

        return Convert.FromHexString(digits.ToString());
    }

    /// <summary>etcdctl's --hex form: every byte as \xNN, lower case.</summary>
    public static string ToHex(ByteString bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var sb = new StringBuilder(bytes.Length * 4);
        foreach (var b in bytes.Span)
        {
            sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Bytes for a table cell: valid printable UTF-8 as is, every other byte (and control characters) as \xNN, and a
    /// backslash doubled, so a cell is one line and distinct byte strings read differently.
    /// </summary>
    public static string ToDisplay(ByteString bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var sb = new StringBuilder(bytes.Length);
        var span = bytes.Span;
        while (!span.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(span, out var rune, out var consumed);
            if (status == System.Buffers.OperationStatus.Done && !System.Text.Rune.IsControl(rune))
            {
                sb.Append(rune == new System.Text.Rune('\\') ? "\\\\" : rune.ToString());
            }
            else
            {
                consumed = Math.Max(consumed, 1);
                foreach (var b in span[..consumed])
                {
                    sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                }
            }

            span = span[consumed..];
        }

        return sb.ToString();
    }

    private static string Describe(string argument) => argument switch
    {
        "key" => "the key",
        "value" => "the value",
        "range_end" => "the range end",
        "txn" => "a key or value",
        _ => argument,
    };
}
