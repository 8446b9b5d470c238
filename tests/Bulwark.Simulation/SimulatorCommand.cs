using System.Diagnostics;
using System.Globalization;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// The command line: <c>soak --minutes N | --seeds N [--start S] [--nodes 3|5|both] [--profile P] [--sabotage X] [--auth] [--gray-failure]</c>
/// and <c>replay --seed S --nodes N [--profile P] [--sabotage X] [--auth] [--gray-failure] [--trace]</c>.
/// </summary>
public static class SimulatorCommand
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            if (args.Length == 0)
            {
                output.WriteLine(Usage);
                return 2;
            }

            var flags = ParseFlags(args.Skip(1).ToArray());
            return args[0] switch
            {
                "soak" => Soak(flags, output),
                "replay" => Replay(flags, output),
                _ => throw new ArgumentException($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e)
        {
            output.WriteLine($"error: {e.Message}");
            output.WriteLine(Usage);
            return 2;
        }
    }

    private const string Usage =
        "usage: soak (--minutes N | --seeds N) [--start S] [--nodes 3|5|both] [--profile P] [--sabotage X] [--auth] [--gray-failure]\n" +
        "       replay --seed S --nodes N [--profile P] [--sabotage X] [--auth] [--gray-failure] [--trace]";

    private static int Replay(Dictionary<string, string> flags, TextWriter output)
    {
        var options = new SimulationOptions(
            ParseULong(Required(flags, "seed"), "seed"),
            ParseInt(Required(flags, "nodes"), "nodes"),
            flags.GetValueOrDefault("profile", "mixed"),
            ParseSabotage(flags.GetValueOrDefault("sabotage")))
        {
            KeepTrace = flags.ContainsKey("trace"),
            Auth = flags.ContainsKey("auth"),
            GrayFailure = flags.ContainsKey("gray-failure"),
        };
        var result = ClusterSimulation.Run(options);
        foreach (var line in result.Trace)
        {
            output.WriteLine(line);
        }

        output.WriteLine(result.Describe());
        return result.Passed ? 0 : 1;
    }

    private static int Soak(Dictionary<string, string> flags, TextWriter output)
    {
        var minutes = flags.TryGetValue("minutes", out var m) ? double.Parse(m, CultureInfo.InvariantCulture) : (double?)null;
        var seeds = flags.TryGetValue("seeds", out var s) ? ParseInt(s, "seeds") : (int?)null;
        if (minutes is null == seeds is null)
        {
            throw new ArgumentException("soak needs exactly one of --minutes N or --seeds N");
        }

        var start = flags.TryGetValue("start", out var st) ? ParseULong(st, "start") : 1UL;
        var nodeCounts = flags.GetValueOrDefault("nodes", "both") switch
        {
            "both" => new[] { 3, 5 },
            var n => [ParseInt(n, "nodes")],
        };
        var profile = flags.GetValueOrDefault("profile", "mixed");
        var sabotage = ParseSabotage(flags.GetValueOrDefault("sabotage"));
        var auth = flags.ContainsKey("auth");
        var grayFailure = flags.ContainsKey("gray-failure");

        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var summary = new SoakSummary();
        for (var i = 0; seeds is null || i < seeds; i++)
        {
            if (minutes is { } limit && clock.Elapsed.TotalMinutes >= limit)
            {
                break;
            }

            var options = new SimulationOptions(start + (ulong)i, nodeCounts[i % nodeCounts.Length], profile, sabotage) { Auth = auth, GrayFailure = grayFailure };
            var result = ClusterSimulation.Run(options);
            summary.Add(result);
            if (!result.Passed)
            {
                output.WriteLine(result.Describe());
            }

            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(10))
            {
                lastReport = clock.Elapsed;
                output.WriteLine(summary.Progress(clock.Elapsed));
            }
        }

        output.WriteLine(summary.Final(clock.Elapsed));
        return summary.Failed == 0 ? 0 : 1;
    }

    private static Dictionary<string, string> ParseFlags(string[] args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected a --flag, got '{args[i]}'");
            }

            var name = args[i][2..];
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            flags[name] = hasValue ? args[++i] : "true";
        }

        return flags;
    }

    private static string Required(Dictionary<string, string> flags, string name) =>
        flags.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    private static int ParseInt(string text, string name) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new ArgumentException($"--{name} must be a positive integer, got '{text}'");

    private static ulong ParseULong(string text, string name) =>
        ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ArgumentException($"--{name} must be a non-negative integer, got '{text}'");


    public static Sabotage ParseSabotage(string? text) =>
        text is null ? Sabotage.None :
        Enum.TryParse<Sabotage>(text, ignoreCase: true, out var s) ? s :
        throw new ArgumentException($"unknown sabotage '{text}'; known: {string.Join(", ", Enum.GetNames<Sabotage>())}");

    /// <summary>Counts over a soak.</summary>
    private sealed class SoakSummary
    {
        private readonly SortedDictionary<string, int> kinds = new(StringComparer.Ordinal);
        private int linearizable;
        private int linUnknown;
        private long events;

        // With the stuck-leader fault: how long until the wedged leader was replaced (-1: never, during the chaos phase).
        private readonly List<string> stuckLeaderNotReplaced = [];
        private int stuckLeaderRuns;
        private int slowestReplacement = -1;
        private string slowestReplacementRun = "";

        public int Runs { get; private set; }

        public int Failed { get; private set; }

        public void Add(SimulationResult result)
        {
            Runs++;
            events += result.Stats.Events;
            if (!result.Passed)
            {
                Failed++;
            }

            if (result.Linearizability == CheckVerdict.Linearizable)
            {
                linearizable++;
            }
            else if (result.Linearizability == CheckVerdict.Unknown)
            {
                linUnknown++;
            }

            foreach (var kind in result.Plan.Kinds().Split(','))
            {
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }

            if (result.Plan.StuckLeader)
            {
                stuckLeaderRuns++;
                var replaced = result.Stats.StuckLeaderReplacedTicks;
                var run = string.Create(CultureInfo.InvariantCulture, $"seed {result.Options.Seed}/{result.Options.Nodes} nodes");
                if (replaced < 0)
                {
                    stuckLeaderNotReplaced.Add(run);
                }
                else if (replaced > slowestReplacement)
                {
                    slowestReplacement = replaced;
                    slowestReplacementRun = run;
                }
            }
        }

        public string Progress(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture,
            $"[{elapsed:hh\\:mm\\:ss}] {Runs} runs, {Runs / elapsed.TotalSeconds:F1} runs/s, {Failed} failed");

        public string Final(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture,
            $"soak: {Runs} runs in {elapsed.TotalSeconds:F1}s ({Runs / Math.Max(elapsed.TotalSeconds, 0.001):F1} runs/s, {events} events); " +
            $"passed {Runs - Failed}, failed {Failed}; linearizability: {linearizable} linearizable, {linUnknown} unknown (budget); " +
            $"fault kinds: {string.Join(' ', kinds.Select(k => $"{k.Key}={k.Value}"))}{StuckLeaderSummary()}");

        private string StuckLeaderSummary() => stuckLeaderRuns == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; stuck leader: replaced in {stuckLeaderRuns - stuckLeaderNotReplaced.Count} of {stuckLeaderRuns} runs, " +
            $"slowest after {slowestReplacement} ticks ({slowestReplacementRun}), " +
            $"never in: {(stuckLeaderNotReplaced.Count == 0 ? "none" : string.Join(", ", stuckLeaderNotReplaced))}");
    }
}
