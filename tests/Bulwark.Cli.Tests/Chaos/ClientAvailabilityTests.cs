using Bulwark.Availability.Journals;
using Bulwark.Chaos.Analysis;
using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Workload;

namespace Bulwark.Cli.Tests.Chaos;

/// <summary>
/// The availability the clients measured (windows without a successful linearizable operation longer than the
/// threshold), the schedule held against the merged journal (missed and spurious outages), and the comparison built
/// from both.
/// </summary>
public sealed class ClientAvailabilityTests
{
    private static readonly DateTimeOffset Zero = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static OpEvent Ok(double endMs, string kind = "put") => new(0, kind, 0, endMs - 5, endMs, OpOutcome.Ok, null, null, []);

    private static OpEvent Failed(double endMs) => new(0, "get", 0, endMs - 5, endMs, OpOutcome.Failed, "Unavailable", "no leader", []);

    /// <summary>A success every 50 ms over [from, to).</summary>
    private static IEnumerable<OpEvent> Steady(double from, double to)
    {
        for (var t = from; t < to; t += 50)
        {
            yield return Ok(t);
        }
    }

    [Fact]
    public void Only_gaps_longer_than_the_threshold_count_and_they_count_in_full()
    {
        // Successes every 50 ms over 0..10 s, except a 200 ms gap (not counted) and a 1 s gap (counted, from the last
        // success before it to the first after it).
        var events = Steady(0, 2000).Concat(Steady(2150, 5000)).Concat(Steady(6000, 10_001)).ToList();

        var measured = ClientAvailability.From(events, 0, 10_000);

        var window = Assert.Single(measured.Windows);
        Assert.Equal((4950.0, 6000.0), (window.FromMs, window.ToMs));
        Assert.Equal(1050 / 10_000.0, measured.Unavailability, 12);
        Assert.Equal(1 - (1050 / 10_000.0), measured.Availability, 12);
    }

    [Fact]
    public void Failed_calls_and_serializable_reads_are_not_service_and_the_span_edges_bound_the_windows()
    {
        // Nothing but failures and serializable reads for the first 3 s, then steady successes; a silent tail at the end.
        var events = new List<OpEvent> { Failed(500), Failed(1500), Ok(1000, "serializable-get") };
        events.AddRange(Steady(3000, 9000));

        var measured = ClientAvailability.From(events, 0, 10_000);

        Assert.Equal([(0.0, 3000.0), (8950.0, 10_000.0)], measured.Windows.Select(w => (w.FromMs, w.ToMs)));
        Assert.Equal(0.405, measured.Unavailability, 12);
    }

    [Fact]
    public void A_run_without_gaps_measures_full_availability_and_bad_spans_are_refused()
    {
        Assert.Equal(1.0, ClientAvailability.From(Steady(0, 5001).ToList(), 0, 5000).Availability);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientAvailability.From([], 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientAvailability.From([], 0, 10, thresholdMs: -1));
    }

    private static FaultRecord Fault(int index, string kind, string target, double startS, double endS) =>
        new(index, kind, target, startS * 1000, endS * 1000, endS * 1000 + 2000, true, []);

    private static Outage Outage(string node, double startS, double endS, bool wasLeader = false) =>
        new(node, Zero + TimeSpan.FromSeconds(startS), Zero + TimeSpan.FromSeconds(endS), ["n1"], false, wasLeader);

    [Fact]
    public void The_schedule_check_counts_a_fault_the_journals_missed_and_an_outage_no_fault_explains()
    {
        var faults = new[]
        {
            Fault(0, "kill-follower", "n2", 10, 14),       // seen: n2 judged down 11..15
            Fault(1, "pause-leader", "n1", 30, 34),        // missed: no outage of n1
            Fault(2, "slow-disk-leader", "n3", 50, 54),    // takes nobody out: not expected, and its target's outage is explained
            Fault(3, "kill-random", "n3", 70, 73),         // seen, though the outage starts after the fault ended (restart catch-up)
        };
        var outages = new[]
        {
            Outage("n2", 11, 15), Outage("n3", 52, 53), Outage("n3", 76, 77), Outage("n2", 90, 92),
        };

        var check = JournalScheduleCheck.From(faults, outages, Zero);

        Assert.Equal((3, 2), (check.FaultsTakingMemberOut, check.Seen));
        Assert.Equal(["#1 pause-leader on n1 at 30.0 s"], check.Missed);
        Assert.Equal(["n2 at 90.0 s for 2.0 s (judged by n1)"], check.Spurious);
    }

    [Fact]
    public void The_comparison_puts_a_prediction_in_0_1_next_to_the_measurement_and_names_broken_assumptions()
    {
        // 10 minutes, a leader kill every 60 s held 4 s: the leader's outages and 500 ms failovers in the journal; the
        // clients lose 600 ms per fault.
        var records = new List<JournalRecord>();
        var events = new List<OpEvent>();
        var faults = new List<FaultRecord>();
        var leader = "n1";
        var term = 2L;
        records.Add(new JournalRecord(Zero, "n1", "leader_changed", "n1", leader, term));
        var previous = 0.0;
        for (var i = 0; i < 9; i++)
        {
            var at = 60.0 * (i + 1);
            var next = leader == "n1" ? "n2" : "n1";
            faults.Add(Fault(i, "kill-leader", leader, at, at + 4));
            records.Add(new JournalRecord(Zero + TimeSpan.FromSeconds(at + 0.1), next, "became_candidate", next));
            records.Add(new JournalRecord(Zero + TimeSpan.FromSeconds(at + 0.6), next, "leader_changed", next, next, ++term));
            records.Add(new JournalRecord(Zero + TimeSpan.FromSeconds(at + 1.0), next, "node_down", leader));
            records.Add(new JournalRecord(Zero + TimeSpan.FromSeconds(at + 1.0), "n3", "node_down", leader));
            records.Add(new JournalRecord(Zero + TimeSpan.FromSeconds(at + 6.0), next, "node_up", leader));
            events.AddRange(Steady(previous * 1000, at * 1000));
            previous = at + 0.6;
            leader = next;
        }

        events.AddRange(Steady(previous * 1000, 600_001));
        var journal = JournalMerge.Merge(records, ["n1", "n2", "n3"], Zero + TimeSpan.FromSeconds(1), Zero + TimeSpan.FromSeconds(600));

        var comparison = AvailabilityComparison.From(journal, faults, events, Zero, 600_000, TimeSpan.FromSeconds(60));

        Assert.Equal((9, 9, 9), (comparison.Outages, comparison.LeaderOutages, comparison.LeaderFailovers));
        Assert.Equal(500, comparison.FailoverMeanMs!.Value, 6);
        Assert.InRange(comparison.Predicted!.Value, 0, 1);
        Assert.InRange(comparison.Measured, 0, 1);
        Assert.Equal(9, comparison.MeasuredWindows);
        Assert.True(comparison.PredictedLower <= comparison.Predicted && comparison.Predicted <= comparison.PredictedUpper);
        Assert.Equal(comparison.MeasuredUnavailability / comparison.PredictedUnavailability!.Value, comparison.UnavailabilityRatio!.Value, 9);
        Assert.Equal((9, 9), (comparison.Schedule.FaultsTakingMemberOut, comparison.Schedule.Seen));
        Assert.Contains(comparison.Assumptions, a => a.Contains("hit the leader", StringComparison.Ordinal));
        Assert.Contains("predicted availability", comparison.ToText(), StringComparison.Ordinal);
    }
}
