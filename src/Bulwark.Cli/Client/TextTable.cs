namespace Bulwark.Cli.Client;

/// <summary>Plain-text tables as etcdctl-like tools print them: a header row, columns padded to their widest cell.</summary>
public static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        var widths = header.Select((h, c) => rows.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(Line([.. header]));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row));
        }

        // The last column is not padded, so lines carry no trailing blanks.
        string Line(string[] values) => string.Join("  ", values.Select((v, c) => c == values.Length - 1 ? v : v.PadRight(widths[c]))).TrimEnd();
    }
}
