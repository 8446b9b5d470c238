using System.Globalization;
using System.Text;
using Bulwark.Availability.Cluster;
using Bulwark.Availability.Estimation;
using Bulwark.Availability.Journals;
using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Workload;

namespace Bulwark.Chaos.Analysis;

/// <summary>Where the clients' unavailable time fell: during faults on the leader, during faults on another member,
/// during faults that take nobody out, and outside any fault (ms each).</summary>
public sealed record UnavailabilityBreakdown(double LeaderFaultsMs, double OtherMemberFaultsMs, double ServingFaultsMs, double NoFaultMs);

/// <summary>
/// Predicted against measured availability for one run (docs/availability.md, "Predicted versus measured in a chaos
/// run"). The prediction is fed only by what the cluster journaled: failure and repair rates from the merged journal
/// (<see cref="JournalMerge"/>), the failover time from its leader changes, the quorum model of
/// <see cref="ClusterModel"/>. The measurement is the clients' (<see cref="ClientAvailability"/>). The schedule only
/// checks the journal (<see cref="JournalScheduleCheck"/>) and attributes the measured unavailability.
/// </summary>
public sealed record AvailabilityComparison(
    double FromMs,
    double ToMs,
    int Nodes,
    int Quorum,
    int Outages,
    int LeaderOutages,
    int QuorumLosses,
    double? FailureRatePerHour,
    double? RepairRatePerHour,
    double? FailoverMeanMs,
    int LeaderFailovers,
    double? Predicted,
    double? PredictedLower,
    double? PredictedUpper,
    double? PredictedUnavailability,
    double? PredictedQuorumLossUnavailability,
    double JournalQuorumAvailability,
    double Measured,
    double MeasuredUnavailability,
    double MeasuredThresholdMs,
    int MeasuredWindows,
    double? UnavailabilityRatio,
    double? MeanLeaderFaultWindowMs,
    UnavailabilityBreakdown Breakdown,
    JournalScheduleCheck Schedule,
    MergeCounts Merge,
    string Verdict,
    IReadOnlyList<string> Assumptions)
{
    /// <summary>The clients' window starts this long after the workload (connections being made), and so does the journal's.</summary>
    public const double SkipMs = 1000;

    public static AvailabilityComparison From(
        ClusterJournal journal, IReadOnlyList<FaultRecord> faults, IReadOnlyList<OpEvent> events, DateTimeOffset zero, double toMs, TimeSpan faultEvery)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(events);
        var fromMs = (journal.WindowStart - zero).TotalMilliseconds;
        var measured = ClientAvailability.From(events, fromMs, toMs);
        var schedule = JournalScheduleCheck.From(faults, journal.Outages, zero);
        var observed = ObservedHistory.From(journal.ToEventLog(), journal.Nodes.Count);
        var failover = journal.MeanFailoverHours;
        var estimate = AvailabilityEstimate.From(observed, new EstimationOptions(Failover: failover is { } d ? new FailoverModel(d) : null));
        var quorumOnly = failover is null ? estimate : AvailabilityEstimate.From(observed, new EstimationOptions());
        var p = estimate.Prediction;
        var leaderFaultStarts = LeaderFaults(faults, journal, zero);
        var breakdown = Attribute(measured, faults, leaderFaultStarts);
        var leaderWindows = faults.Where(f => leaderFaultStarts.Contains(f.Index)).Select(f => WindowsDuring(measured, f)).ToList();
        double? ratio = p is { Unavailability: > 0 } ? measured.Unavailability / p.Unavailability : null;
        var comparison = new AvailabilityComparison(
            fromMs, toMs, observed.Nodes, observed.Quorum, journal.Outages.Count, journal.Outages.Count(o => o.WasLeader), observed.QuorumLosses,
            estimate.FailureRate.Rate, estimate.RepairRate?.Rate, failover * 3_600_000, journal.LeaderFailovers.Count,
            p?.Availability, p?.AvailabilityLower, p?.AvailabilityUpper, p?.Unavailability, quorumOnly.Prediction?.Unavailability,
            Math.Min(1, observed.MeasuredAvailability), measured.Availability, measured.Unavailability, measured.ThresholdMs, measured.Windows.Count, ratio,
            leaderWindows.Count == 0 ? null : leaderWindows.Average(), breakdown, schedule, journal.Counts, "", []);
        return comparison with { Verdict = comparison.Judge(), Assumptions = comparison.Explain(faultEvery) };
    }

    /// <summary>Faults whose target was the leader: those whose outage was followed by a leader failover.</summary>
    private static HashSet<int> LeaderFaults(IReadOnlyList<FaultRecord> faults, ClusterJournal journal, DateTimeOffset zero)
    {
        var result = new HashSet<int>();
        foreach (var f in faults)
        {
            var from = zero + TimeSpan.FromMilliseconds(f.StartMs);
            var to = zero + TimeSpan.FromMilliseconds(Math.Max(f.EndMs, f.RecoveredMs ?? f.EndMs)) + JournalScheduleCheck.Slack;
            if (journal.Outages.Any(o => o.WasLeader && o.Node == f.Target && o.Start <= to && o.End >= from))
            {
                result.Add(f.Index);
            }
        }

        return result;
    }

    private static UnavailabilityBreakdown Attribute(ClientAvailability measured, IReadOnlyList<FaultRecord> faults, HashSet<int> leaderFaults)
    {
        double leader = 0, other = 0, serving = 0, none = 0;
        foreach (var w in measured.Windows)
        {
            var fault = faults.LastOrDefault(f => Overlaps(w, f));
            if (fault is null)
            {
                none += w.Ms;
            }
            else if (leaderFaults.Contains(fault.Index))
            {
                leader += w.Ms;
            }
            else if (FaultKinds.Names.Contains(fault.Kind) && FaultKinds.Parse(fault.Kind)[0].TakesMemberOut())
            {
                other += w.Ms;
            }
            else
            {
                serving += w.Ms;
            }
        }

        return new UnavailabilityBreakdown(leader, other, serving, none);
    }

    private static double WindowsDuring(ClientAvailability measured, FaultRecord f) => measured.Windows.Where(w => Overlaps(w, f)).Sum(w => w.Ms);

    /// <summary>The window overlaps the fault, from its start until it was recovered. A window that began before the
    /// fault (from the last success before it) still is the fault's.</summary>
    private static bool Overlaps(UnservedWindow w, FaultRecord f) => w.ToMs > f.StartMs && w.FromMs <= Math.Max(f.EndMs, f.RecoveredMs ?? f.EndMs);

    private string Judge()
    {
        if (UnavailabilityRatio is not { } r)
        {
            return Predicted is null
                ? "no prediction: the journals show no completed failure and repair"
                : "no comparison: the model predicts no unavailability";
        }

        var c = CultureInfo.InvariantCulture;
        return r is >= 0.9 and <= 1.1
            ? string.Create(c, $"within ±10 %: measured unavailability is {r:0.00} × the predicted")
            : string.Create(c, $"outside ±10 %: measured unavailability is {r:0.00} × the predicted ({(r < 1 ? "better" : "worse")} than predicted)");
    }

    /// <summary>Which of the model's assumptions this run breaks, with the run's own numbers.</summary>
    private List<string> Explain(TimeSpan faultEvery)
    {
        var c = CultureInfo.InvariantCulture;
        var notes = new List<string>
        {
            string.Create(c, $"failures are injected at fixed intervals (one every {faultEvery.TotalSeconds:0} s) and repaired by a restart or resume after a 2–6 s hold: neither time is exponential, and the harness never starts a fault before the last one recovered"),
        };
        if (PredictedUnavailability is { } u and > 0 && PredictedQuorumLossUnavailability is { } q && q / u > 0.1)
        {
            notes.Add(string.Create(c, $"{q / u:P0} of the predicted unavailability is quorum loss (two members down at once, {q:0.####}), which independent exponential failures make likely at these rates; the journals saw {QuorumLosses} quorum loss(es), since faults never overlap by construction"));
        }

        if (Outages > 0 && Nodes > 0)
        {
            var share = (double)LeaderOutages / Outages;
            if (Math.Abs(share - (1.0 / Nodes)) > 0.1)
            {
                notes.Add(string.Create(c, $"{LeaderOutages} of {Outages} outages hit the leader ({share:P0}); the model assumes a failure hits the leader with probability 1/{Nodes} ({1.0 / Nodes:P0}), as random faults do, but *-leader faults pick it"));
            }
        }

        var total = Breakdown.LeaderFaultsMs + Breakdown.OtherMemberFaultsMs + Breakdown.ServingFaultsMs + Breakdown.NoFaultMs;
        if (total > 0 && (Breakdown.OtherMemberFaultsMs + Breakdown.ServingFaultsMs + Breakdown.NoFaultMs) / total > 0.1)
        {
            notes.Add(string.Create(c, $"the clients lost {Breakdown.OtherMemberFaultsMs:0} ms during faults on a follower, {Breakdown.ServingFaultsMs:0} ms during faults that take nobody out and {Breakdown.NoFaultMs:0} ms outside faults, of {total:0} ms: the model gives a follower's failure (with a quorum left) and a serving member no cost"));
        }

        if (FailoverMeanMs is { } d && MeanLeaderFaultWindowMs is { } w && w > 0 && Math.Abs(d - w) / w > 0.1)
        {
            notes.Add(string.Create(c, $"the journals' failover time ({d:0} ms from the first journaled sign of trouble to the new leader) differs from the clients' unavailable time per leader fault ({w:0} ms): the silence before a follower suspects its leader is not journaled, and clients need a moment to find the new leader"));
        }

        if (Schedule.Missed.Count > 0 || Schedule.Spurious.Count > 0)
        {
            notes.Add(string.Create(c, $"the journals missed {Schedule.Missed.Count} and invented {Schedule.Spurious.Count} outage(s) against the schedule, so the rates are off by as much"));
        }

        return notes;
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("predicted versus measured availability (prediction from the merged journals, cluster-events.jsonl):");
        text.AppendLine(c, $"  window                 {FromMs / 1000:0.0} .. {ToMs / 1000:0.0} s; {Nodes} members, quorum {Quorum}");
        text.AppendLine(c, $"  journals               {Outages} outage(s) ({LeaderOutages} of the leader), {QuorumLosses} quorum loss(es); merged from {Merge.DownRecords} node_down records of {Merge.Observers} members ({Merge.DroppedFromMinority} minority-only dropped, {Merge.Coalesced} flaps coalesced)");
        text.AppendLine(c, $"  schedule check         {Schedule.Seen} of {Schedule.FaultsTakingMemberOut} faults that take a member out seen in the journals; missed {Schedule.Missed.Count}{List(Schedule.Missed)}; spurious {Schedule.Spurious.Count}{List(Schedule.Spurious)}");
        text.AppendLine(c, $"  rates                  λ {Rate(FailureRatePerHour)} per hour, μ {Rate(RepairRatePerHour)} per hour; failover {(FailoverMeanMs is { } d ? $"{d:0} ms (mean of {LeaderFailovers} after leader outages)" : "none seen (not modelled)")}");
        text.AppendLine(c, $"  predicted availability {Fixed(Predicted)}  interval [{Fixed(PredictedLower)}, {Fixed(PredictedUpper)}]  unavailability {Sci(PredictedUnavailability)} (quorum loss alone {Sci(PredictedQuorumLossUnavailability)})");
        text.AppendLine(c, $"  measured availability  {Measured:0.000000}  unavailability {MeasuredUnavailability:0.000e+00} ({MeasuredWindows} windows > {MeasuredThresholdMs:0} ms without a successful operation; by member up/down in the journals: {JournalQuorumAvailability:0.000000})");
        text.AppendLine(c, $"  measured / predicted   {(UnavailabilityRatio is { } r ? r.ToString("0.00", c) : "n/a")} (unavailability); {Verdict}");
        text.AppendLine(c, $"  unavailable ms         leader faults {Breakdown.LeaderFaultsMs:0}, other members' faults {Breakdown.OtherMemberFaultsMs:0}, faults taking nobody out {Breakdown.ServingFaultsMs:0}, no fault {Breakdown.NoFaultMs:0}");
        foreach (var note in Assumptions)
        {
            text.AppendLine(c, $"  assumption broken: {note}");
        }

        return text.ToString();
    }

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "" : " (" + string.Join("; ", items.Take(5)) + (items.Count > 5 ? "; ..." : "") + ")";

    private static string Rate(double? v) => v is { } x ? x.ToString("0.###e+00", CultureInfo.InvariantCulture) : "n/a";

    private static string Fixed(double? v) => v is { } x ? x.ToString("0.000000", CultureInfo.InvariantCulture) : "n/a";

    private static string Sci(double? v) => v is { } x ? x.ToString("0.000e+00", CultureInfo.InvariantCulture) : "n/a";
}
