namespace Bulwark.Server.Hosting;

/// <summary>
/// serve's hidden, TEST-ONLY option <c>--test-only-corrupt-key MEMBER=KEY</c>: the member named MEMBER overwrites KEY's
/// value in its own store once the key exists, bypassing the log (<see cref="NodeHostOptions.TestOnlyCorruptKey"/>), so
/// a real-process test can give every member the same flags and still corrupt exactly one. It is not in --help or the
/// settings list, not read from the environment or a config file, and off unless given; never use it on real data.
/// </summary>
public static class TestOnlyCorruption
{
    public const string Flag = "--test-only-corrupt-key";

    /// <summary>Takes the option out of <paramref name="args"/>; returns the rest and the member and key it names.</summary>
    /// <exception cref="ArgumentException">The option has no value, or the value is not MEMBER=KEY.</exception>
    public static (IReadOnlyList<string> Remaining, string? Member, string? Key) Extract(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rest = new List<string>(args.Count);
        string? value = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == Flag)
            {
                value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{Flag} needs a value MEMBER=KEY");
            }
            else if (args[i].StartsWith(Flag + "=", StringComparison.Ordinal))
            {
                value = args[i][(Flag.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        if (value is null)
        {
            return (rest, null, null);
        }

        var eq = value.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == value.Length - 1)
        {
            throw new ArgumentException($"{Flag} takes MEMBER=KEY, not '{value}'");
        }

        return (rest, value[..eq], value[(eq + 1)..]);
    }
}
