using System.Text;

namespace Bulwark.Cli.Client;

/// <summary>
/// Command-line arguments as the bytes the shell passed. .NET decodes argv as UTF-8 and turns every invalid byte into
/// U+FFFD, so `bulwark put $'\x01\xfe\xff' v` would store \x01\xef\xbf\xbd\xef\xbf\xbd. On Linux the kernel keeps the
/// raw bytes in /proc/self/cmdline: an argument that decoded to something with U+FFFD in it is swapped, before parsing,
/// for a placeholder that <see cref="KvBytes.FromArgument"/> turns back into the original bytes. Where the raw bytes
/// cannot be read (or do not line up with the arguments, as when the CLI runs inside a test host), nothing changes.
/// </summary>
public static class RawArguments
{
    private const char Mark = '\u0001';
    private const string Prefix = "\u0001bulwark-raw-argument-";
    private static readonly Dictionary<string, byte[]> Originals = new(StringComparer.Ordinal);

    /// <summary>The arguments with each lossily decoded one replaced by a placeholder for its raw bytes.</summary>
    public static string[] Recover(string[] args, string cmdlinePath = "/proc/self/cmdline")
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!args.Any(a => a.Contains('\uFFFD', StringComparison.Ordinal)) || Raw(cmdlinePath, args.Length) is not { } raw || !LinesUp(raw, args))
        {
            return args;
        }

        var recovered = (string[])args.Clone();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].Contains('\uFFFD', StringComparison.Ordinal))
            {
                var placeholder = Prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + Mark;
                lock (Originals)
                {
                    Originals[placeholder] = raw[i];
                }

                recovered[i] = placeholder;
            }
        }

        return recovered;
    }

    /// <summary>The original bytes behind a placeholder made by <see cref="Recover"/>.</summary>
    public static bool TryGet(string text, out byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytes = [];
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        lock (Originals)
        {
            if (Originals.TryGetValue(text, out var found))
            {
                bytes = found;
                return true;
            }
        }

        return false;
    }

    /// <summary>The last <paramref name="count"/> raw arguments, if they decode to the arguments .NET gave (else null).</summary>
    private static byte[][]? Raw(string path, int count)
    {
        byte[] all;
        try
        {
            all = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }

        var parts = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < all.Length; i++)
        {
            if (all[i] == 0)
            {
                parts.Add(all[start..i]);
                start = i + 1;
            }
        }

        return parts.Count < count ? null : [.. parts.Skip(parts.Count - count)];
    }

    /// <summary>Whether <paramref name="raw"/> decodes (lossily) to the arguments .NET gave.</summary>
    internal static bool LinesUp(IReadOnlyList<byte[]> raw, IReadOnlyList<string> args) =>
        raw.Count == args.Count && raw.Select((r, i) => Encoding.UTF8.GetString(r) == args[i]).All(x => x);
}
