using System.Globalization;

namespace MasterBackup;

/// <summary>`--name value` pairs, nothing more: the sample keeps its command line readable without a parser library.</summary>
internal static class SampleArguments
{
    public static Dictionary<string, string> Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> known, string usage)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            var name = args[i];
            if (!known.Contains(name))
            {
                throw new ArgumentException($"unknown argument '{name}'.{Environment.NewLine}{usage}");
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.{Environment.NewLine}{usage}");
            }

            values[name] = args[i + 1];
        }

        return values;
    }

    public static string Required(Dictionary<string, string> values, string name, string usage) =>
        values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new ArgumentException($"{name} is required.{Environment.NewLine}{usage}");

    public static IReadOnlyList<string> Endpoints(Dictionary<string, string> values, string usage)
    {
        var endpoints = Required(values, "--endpoints", usage).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var endpoint in endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                throw new ArgumentException($"--endpoints: '{endpoint}' is not an http(s) URL.{Environment.NewLine}{usage}");
            }
        }

        return endpoints;
    }

    public static int Number(Dictionary<string, string> values, string name, int fallback, string usage)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new ArgumentException($"{name} takes a whole number (was '{text}').{Environment.NewLine}{usage}");
    }
}
