using System.Globalization;

namespace Bulwark.Cli.Client;

/// <summary>
/// Parses `--endpoints`: comma-separated "host:port", "http://host:port", "https://host:port", or a bare port that reuses the host before
/// it (so the default "127.0.0.1:2379,22379,32379" names the three members `bulwark cluster up` starts).
/// </summary>
public static class ClientEndpoints
{
    public const string Default = "127.0.0.1:2379,22379,32379";

    /// <summary>The endpoints as "http(s)://host:port" URLs, in the order given; one written without a scheme gets
    /// https when <paramref name="tls"/> (TLS flags were given, as etcdctl), otherwise http.</summary>
    public static IReadOnlyList<string> Parse(string text, bool tls = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<string>();
        var host = "127.0.0.1";
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = raw;
            var scheme = tls ? "https" : "http";
            foreach (var explicitScheme in new[] { "http", "https" })
            {
                if (entry.StartsWith(explicitScheme + "://", StringComparison.OrdinalIgnoreCase))
                {
                    entry = entry[(explicitScheme.Length + 3)..].TrimEnd('/');
                    scheme = explicitScheme;
                }
            }

            string port;
            var colon = entry.LastIndexOf(':');
            if (colon < 0)
            {
                port = entry;
            }
            else
            {
                host = entry[..colon];
                port = entry[(colon + 1)..];
            }

            if (host.Length == 0 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            {
                throw new ClientInputException("endpoints", $"'{raw}' is not an endpoint; expected host:port, http://host:port or a port (1-65535)");
            }

            result.Add($"{scheme}://{host}:{number.ToString(CultureInfo.InvariantCulture)}");
        }

        if (result.Count == 0)
        {
            throw new ClientInputException("endpoints", "no endpoint given; expected e.g. 127.0.0.1:2379,22379,32379");
        }

        return result;
    }
}
