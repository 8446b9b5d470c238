using System.Globalization;
using System.Text;
using System.Text.Json;
using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Workload;

namespace Bulwark.Chaos.Analysis;

/// <summary>Per fault: what happened, whether its effect was seen, and the longest window without a successful operation.</summary>
public sealed record FaultReport(FaultRecord Fault, double LongestWindowMs, double WindowFromMs);

/// <summary>Operation counts of a run: every call, by outcome, and the failures by gRPC status.</summary>
public sealed record OperationCounts(int Total, int Ok, int Failed, int Unknown, int SerializableReads, IReadOnlyDictionary<string, int> Errors)
{
    public static OperationCounts From(IReadOnlyList<OpEvent> events, int serializableReads)
    {
        ArgumentNullException.ThrowIfNull(events);
        var calls = events.Where(e => e.Kind != "final-get").ToList();
        var errors = calls.Where(e => e.Outcome != OpOutcome.Ok)
            .GroupBy(e => e.Code == "ResourceExhausted" ? $"ResourceExhausted ({e.Message})" : e.Code ?? "?")
            .OrderByDescending(g => g.Count())
            .ToDictionary(g => g.Key, g => g.Count());
        return new(calls.Count, calls.Count(e => e.Outcome == OpOutcome.Ok), calls.Count(e => e.Outcome == OpOutcome.Failed), calls.Count(e => e.Outcome == OpOutcome.Unknown), serializableReads, errors);
    }
}

/// <summary>
/// What `bulwark chaos` found: the run's settings, operation counts, the linearizability verdict, acknowledged writes
/// lost, serializable reads of values never written, and per fault its evidence and longest window. Its exit code:
/// 0 linearizable, nothing lost and every fault observed; 1 a violation (not linearizable, a write lost, a value never
/// written read); 3 inconclusive (the check ran out of time, or a fault's effect was not observed).
/// </summary>
public sealed record ChaosReport(
    string System,
    int Members,
    int Clients,
    int Keys,
    int Seed,
    double DurationMs,
    IReadOnlyList<string> Notes,
    OperationCounts Operations,
    int HistoryOperations,
    HistoryVerdict Verdict,
    IReadOnlyList<LostWrite> LostWrites,
    IReadOnlyList<SerializableRead> SerializableNeverWritten,
    double BaselineWindowMs,
    IReadOnlyList<FaultReport> Faults,
    AvailabilityComparison? Availability = null,
    DateTimeOffset? WorkloadStartedAt = null)
{
    public const int ExitOk = 0;
    public const int ExitViolation = 1;
    public const int ExitBadInput = 2;
    public const int ExitInconclusive = 3;

    /// <summary>What the watchers received, checked (null for a re-check of a saved history, which has no watches).</summary>
    public Watches.WatchReport? Watches { get; init; }

    public bool Violated => Verdict.Verdict == HistoryVerdict.NotLinearizable || LostWrites.Count > 0 || SerializableNeverWritten.Count > 0
        || Watches is { Violated: true };

    public int ExitCode => Violated ? ExitViolation
        : Verdict.Verdict == HistoryVerdict.Unknown || Faults.Any(f => !f.Fault.Observed) || Watches is { Behind.Count: > 0 } ? ExitInconclusive
        : ExitOk;

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, HistoryFile.Json));

    /// <summary>The printed report as Markdown, with the availability comparison as a table.</summary>
    public void SaveMarkdown(string path)
    {
        var c = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(c, $"# Chaos run: {System}, seed {Seed}");
        md.AppendLine();
        if (Availability is { } a)
        {
            md.AppendLine("## Predicted versus measured availability");
            md.AppendLine();
            md.AppendLine("| | availability | unavailability |");
            md.AppendLine("|---|---|---|");
            md.AppendLine(c, $"| predicted (merged journals: λ, μ, failover {(a.FailoverMeanMs is { } d ? $"{d:0} ms" : "none")}) | {a.Predicted?.ToString("0.000000", c) ?? "n/a"} [{a.PredictedLower?.ToString("0.000000", c) ?? "n/a"}, {a.PredictedUpper?.ToString("0.000000", c) ?? "n/a"}] | {a.PredictedUnavailability?.ToString("0.000e+00", c) ?? "n/a"} |");
            md.AppendLine(c, $"| measured by the clients (windows > {a.MeasuredThresholdMs:0} ms without success) | {a.Measured:0.000000} | {a.MeasuredUnavailability:0.000e+00} |");
            md.AppendLine(c, $"| measured / predicted | | {(a.UnavailabilityRatio is { } r ? r.ToString("0.00", c) : "n/a")} |");
            md.AppendLine();
            md.AppendLine(a.Verdict + ".");
            md.AppendLine();
            foreach (var note in a.Assumptions)
            {
                md.AppendLine(c, $"- {note}");
            }

            md.AppendLine();
        }

        md.AppendLine("## Report");
        md.AppendLine();
        md.AppendLine("```");
        md.Append(ToText());
        md.AppendLine("```");
        File.WriteAllText(path, md.ToString());
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"chaos run: {System}, {Members} members, {Clients} clients on {Keys} keys, {DurationMs / 1000:0.0} s, seed {Seed}");
        foreach (var note in Notes)
        {
            text.AppendLine(c, $"note: {note}");
        }

        text.AppendLine(c, $"operations: {Operations.Total} (ok {Operations.Ok}, failed {Operations.Failed}, unknown {Operations.Unknown}); serializable reads: {Operations.SerializableReads}");
        if (Operations.Errors.Count > 0)
        {
            text.AppendLine(c, $"errors: {string.Join(", ", Operations.Errors.Select(e => $"{e.Key} {e.Value}"))}");
        }

        text.AppendLine(c, $"history: {HistoryOperations} operations, {Verdict.Verdict} ({Verdict.Steps} steps, {Verdict.CheckSeconds:0.0} s; {Verdict.SetAside} unknown-outcome writes nobody observed checked as taking effect last)");
        if (Verdict.Excerpt is { } excerpt)
        {
            text.Append(excerpt);
            if (!excerpt.EndsWith('\n'))
            {
                text.AppendLine();
            }
        }

        text.AppendLine(c, $"acknowledged writes lost: {LostWrites.Count}");
        foreach (var lost in LostWrites.Take(10))
        {
            text.AppendLine(c, $"  #{lost.Id} put({lost.Key}, {lost.Value}) acknowledged; final value {lost.FinalValue}, and no later write could have replaced it");
        }

        text.AppendLine(c, $"serializable reads of a value never written: {SerializableNeverWritten.Count}");
        foreach (var read in SerializableNeverWritten.Take(10))
        {
            text.AppendLine(c, $"  client {read.Client} read {read.Key} = '{read.Value}' from n{read.Member + 1} at {read.EndMs:0} ms");
        }

        if (Watches is { } w)
        {
            text.AppendLine(c, $"watches: {w.Watchers} watchers, {w.DistinctEvents} distinct events, {w.Reconnects} resumes on another member; {w.AcknowledgedWritesChecked} acknowledged writes checked; problems: {(w.Problems.Count == 0 ? "none" : string.Join(", ", w.Problems.Select(p => $"{p.Key} {p.Value}")))}");
            foreach (var example in w.Examples.Concat(w.Behind))
            {
                text.AppendLine(c, $"  {example}");
            }
        }

        text.AppendLine(c, $"longest window without a successful operation before the first fault: {BaselineWindowMs:0} ms");
        if (Faults.Count > 0)
        {
            text.AppendLine("fault                   target  start s  held ms  window ms  recovered s  observed");
            foreach (var f in Faults)
            {
                var held = f.Fault.EndMs - f.Fault.StartMs;
                var recovered = f.Fault.RecoveredMs is { } r ? ((r - f.Fault.StartMs) / 1000).ToString("0.0", c) : "never";
                text.AppendLine(c, $"{f.Fault.Kind,-23} {f.Fault.Target,-7} {f.Fault.StartMs / 1000,7:0.0}  {held,7:0}  {f.LongestWindowMs,9:0}  {recovered,11}  {(f.Fault.Observed ? "yes" : "NO")}: {string.Join("; ", f.Fault.Evidence)}");
            }
        }

        if (Availability is { } availability)
        {
            text.Append(availability.ToText());
        }

        text.AppendLine(ExitCode switch
        {
            ExitOk => Faults.Count > 0 ? "result: OK (linearizable, no acknowledged write lost, watches complete and in order, every fault observed)" : "result: OK (linearizable, no acknowledged write lost, watches complete and in order; no faults)",
            ExitViolation => "result: VIOLATION",
            _ => "result: INCONCLUSIVE (" + (Verdict.Verdict == HistoryVerdict.Unknown ? "the check did not finish"
                : Faults.Any(f => !f.Fault.Observed) ? "a fault's effect was not observed" : "a watcher did not catch up") + ")",
        });
        return text.ToString();
    }
}
