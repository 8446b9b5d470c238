using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

/// <summary>
/// Encodes header fields using only literal representations that never touch the dynamic table ("without
/// indexing", or "never indexed" when the sender marked them so) and plain strings, so the receiving decoder's
/// dynamic table is neither read nor changed.
/// </summary>
internal static class HpackLiteralEncoder
{
    public static byte[] Encode(IReadOnlyList<HeaderField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var output = new List<byte>(256);
        foreach (var field in fields)
        {
            var flag = field.NeverIndexed ? (byte)0x10 : (byte)0x00;
            var nameIndex = HpackStaticTable.IndexOfName(field.Name);
            WriteInteger(output, flag, 4, nameIndex);
            if (nameIndex == 0)
            {
                WriteString(output, field.Name);
            }

            WriteString(output, field.Value);
        }

        return [.. output];
    }

    private static void WriteString(List<byte> output, byte[] value)
    {
        WriteInteger(output, 0x00, 7, value.Length);
        output.AddRange(value);
    }

    /// <summary>Writes an HPACK integer with an N-bit prefix (RFC 7541 5.1); <paramref name="flags"/> fills the bits above the prefix.</summary>
    public static void WriteInteger(List<byte> output, byte flags, int prefixBits, int value)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(value);
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
