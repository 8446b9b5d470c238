using System.Globalization;

namespace Bulwark.Bench.Load;

/// <summary>Parses bulwark-load's flags (--name value or --name=value); every error names the flag.</summary>
public static class LoadArguments
{
    public const string Usage = """
        bulwark-load: drive a cluster that speaks the etcd v3 gRPC API (Bulwark or etcd)

          --endpoints URLS     comma-separated http://host:port (required)
          --clients N          concurrent clients, one call in flight each (1)
          --conns M            HTTP/2 connections shared by the clients (1)
          --workload W         put | get | mix (put)
          --consistency C      linearizable | serializable, for gets (linearizable)
          --read-percent P     share of gets in mix, 0..100 (50)
          --key-size B         key bytes (16)
          --val-size B         value bytes (256)
          --key-space K        distinct keys, picked uniformly (10000)
          --prefix S           key prefix (k)
          --duration S         seconds to run (10)
          --ops N              stop after N operations instead of a duration
          --rate R             open loop: R ops/s in total on a fixed schedule; latency from the intended send time
          --preload            write every key once before measuring
          --warmup S           seconds of unmeasured load before the measured phase (0)
          --timeout MS         per-call deadline (10000)
          --seed N             random seed (1)
          --json PATH          also write the result as JSON to PATH ('-' for stdout instead of the table)
        """;

    /// <summary>The parsed run: options, warm-up and where the JSON goes.</summary>
    public sealed record Parsed(LoadOptions Options, TimeSpan Warmup, string? JsonPath);

    public static Parsed Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg[2..] : arg[2..eq];
            if (name == "preload")
            {
                values[name] = eq < 0 ? "true" : arg[(eq + 1)..];
                continue;
            }

            if (!Known.Contains(name))
            {
                throw new ArgumentException($"unknown flag --{name}");
            }

            if (eq >= 0)
            {
                values[name] = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                values[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"--{name} needs a value");
            }
        }

        if (!values.TryGetValue("endpoints", out var endpoints))
        {
            throw new ArgumentException("--endpoints is required");
        }

        var options = new LoadOptions
        {
            Endpoints = endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Clients = Int(values, "clients") ?? 1,
            Connections = Int(values, "conns") ?? 1,
            Workload = Enum<Workload>(values, "workload") ?? Workload.Put,
            Consistency = Enum<ReadConsistency>(values, "consistency") ?? ReadConsistency.Linearizable,
            ReadPercent = Int(values, "read-percent") ?? 50,
            KeySize = Int(values, "key-size") ?? 16,
            ValueSize = Int(values, "val-size") ?? 256,
            KeySpace = Int(values, "key-space") ?? 10_000,
            KeyPrefix = values.GetValueOrDefault("prefix") ?? "k",
            Duration = TimeSpan.FromSeconds(Double(values, "duration") ?? 10),
            TotalOps = Long(values, "ops"),
            Rate = Double(values, "rate"),
            Preload = values.TryGetValue("preload", out var p) && bool.Parse(p),
            CallTimeout = TimeSpan.FromMilliseconds(Double(values, "timeout") ?? 10_000),
            Seed = Int(values, "seed") ?? 1,
        };
        options.Validate();
        var warmup = TimeSpan.FromSeconds(Double(values, "warmup") ?? 0);
        if (warmup < TimeSpan.Zero)
        {
            throw new ArgumentException("--warmup must not be negative");
        }

        return new Parsed(options, warmup, values.GetValueOrDefault("json"));
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "endpoints", "clients", "conns", "workload", "consistency", "read-percent", "key-size", "val-size", "key-space",
        "prefix", "duration", "ops", "rate", "warmup", "timeout", "seed", "json",
    };

    private static int? Int(Dictionary<string, string> v, string name) =>
        v.TryGetValue(name, out var s) ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Bad(name, s, "an integer") : null;

    private static long? Long(Dictionary<string, string> v, string name) =>
        v.TryGetValue(name, out var s) ? long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Bad(name, s, "an integer") : null;

    private static double? Double(Dictionary<string, string> v, string name) =>
        v.TryGetValue(name, out var s) ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? n : throw Bad(name, s, "a number") : null;

    private static T? Enum<T>(Dictionary<string, string> v, string name)
        where T : struct, System.Enum =>
        v.TryGetValue(name, out var s)
            ? System.Enum.TryParse<T>(s, ignoreCase: true, out var e) && System.Enum.IsDefined(e) ? e : throw Bad(name, s, string.Join(" | ", System.Enum.GetNames<T>()).ToLowerInvariant())
            : null;

    private static ArgumentException Bad(string name, string value, string expected) =>
        new($"--{name}: '{value}' is not {expected}");
}
