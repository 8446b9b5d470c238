using System.Text;
using Bulwark.Availability.Estimation;
using MathNet.Numerics.Distributions;

namespace Bulwark.Availability.Tests;

public sealed class EstimationTests
{
    /// <summary>10 days, 3 nodes, 3 failures, one 30-minute quorum loss, plus records of kinds the estimator skips.</summary>
    internal const string SampleLog = """
        {"ts":"2026-01-01T00:00:00.000Z","event":"observation_start","nodes":["n1","n2","n3"]}
        {"ts":"2026-01-01T10:00:00.000Z","node":"n1","event":"node_down","reason":"process crashed"}
        {"ts":"2026-01-01T11:00:00.000Z","node":"n1","event":"node_up"}
        {"ts":"2026-01-01T12:00:00.000Z","event":"leader_changed","node":"n2","term":7}

        {"ts":"2026-01-02T00:00:00.000Z","node":"n2","event":"node_down","reason":"disk full"}
        {"ts":"2026-01-02T00:10:00.000Z","node":"n3","event":"peer_suspected","by":"n1"}
        {"ts":"2026-01-02T00:30:00.000Z","node":"n3","event":"node_down","reason":"power"}
        {"ts":"2026-01-02T01:00:00.000Z","node":"n2","event":"node_up"}
        {"ts":"2026-01-02T03:00:00.000Z","node":"n3","event":"node_up"}
        {"ts":"2026-01-11T00:00:00.000Z","event":"observation_end"}
        """;

    [Fact]
    public void Exponential_rate_interval_matches_the_issue_vector()
    {
        var e = RateEstimate.TimeTruncated(5, 20_000, 0.9);
        Close.Relative(2.5e-4, e.Rate, 1e-15);
        Close.Relative(9.8507e-5, e.Lower, 5e-5);
        Close.Relative(5.2565e-4, e.Upper, 5e-5);
    }

    [Fact]
    public void Zero_failures_give_zero_lower_bound_and_closed_form_upper_bound()
    {
        // With 2 degrees of freedom the chi-square quantile is −2·ln(1 − p), so the upper bound is ln(20)/T at 90 %.
        var e = RateEstimate.TimeTruncated(0, 1000, 0.9);
        Assert.Equal(0, e.Rate);
        Assert.Equal(0, e.Lower);
        Close.Relative(Math.Log(20) / 1000, e.Upper, 1e-12);
        Assert.Equal(double.PositiveInfinity, e.MeanHours);
    }

    [Fact]
    public void Rate_estimate_inputs_are_validated()
    {
        Assert.Equal("events", Assert.Throws<AvailabilityInputException>(() => RateEstimate.TimeTruncated(-1, 10, 0.9)).Field);
        Assert.Equal("exposure", Assert.Throws<AvailabilityInputException>(() => RateEstimate.TimeTruncated(1, 0, 0.9)).Field);
        Assert.Equal("confidence", Assert.Throws<AvailabilityInputException>(() => RateEstimate.TimeTruncated(1, 10, 1.0)).Field);
    }

    [Fact]
    public void Log_is_parsed_and_other_event_kinds_are_skipped()
    {
        var log = EventLog.Parse(SampleLog);
        Assert.Equal(["n1", "n2", "n3"], log.DeclaredNodes);
        Assert.Equal(6, log.Transitions.Count);
        Assert.Equal(2, log.SkippedRecords);
        Assert.Equal("process crashed", log.Transitions[0].Reason);
        Assert.False(log.Transitions[0].IsUp);
        Assert.Equal(new DateTimeOffset(2026, 1, 11, 0, 0, 0, TimeSpan.Zero), log.WindowEnd);
    }

    [Fact]
    public void History_counts_exposure_and_measures_quorum_time()
    {
        var h = ObservedHistory.From(EventLog.Parse(SampleLog));
        Assert.Equal(3, h.Nodes);
        Assert.Equal(2, h.Quorum);
        Assert.Equal(240, h.WindowHours, 12);
        Assert.Equal(3, h.Failures);
        Assert.Equal(3, h.Repairs);
        // Down node-hours: n1 1 h, n2 1 h, n3 2.5 h.
        Assert.Equal(4.5, h.DownHours, 12);
        Assert.Equal((3 * 240) - 4.5, h.UpHours, 9);
        Assert.Equal(0.5, h.QuorumDownHours, 12);
        Assert.Equal(1, h.QuorumLosses);
        Close.Relative(239.5 / 240, h.MeasuredAvailability, 1e-15);
        Close.Relative(0.5 / 240, h.MeasuredUnavailability, 1e-12);
    }

    [Fact]
    public void Estimate_gives_mle_rates_step_probabilities_and_prediction()
    {
        var h = ObservedHistory.From(EventLog.Parse(SampleLog));
        var e = AvailabilityEstimate.From(h, new EstimationOptions(Confidence: 0.9, StepHours: 1));
        double lambda = 3 / 715.5;
        double mu = 3 / 4.5;
        Close.Relative(lambda, e.FailureRate.Rate, 1e-12);
        Close.Relative(mu, e.RepairRate!.Rate, 1e-12);
        Close.Relative(ChiSquared.InvCDF(6, 0.05) / (2 * 715.5), e.FailureRate.Lower, 1e-12);
        Close.Relative(ChiSquared.InvCDF(8, 0.95) / (2 * 715.5), e.FailureRate.Upper, 1e-12);

        double forget = 1 - Math.Exp(-(lambda + mu));
        Close.Relative(lambda / (lambda + mu) * forget, e.P01!.Value, 1e-12);
        Close.Relative(mu / (lambda + mu) * forget, e.P10!.Value, 1e-12);

        // Three nodes, majority, independent repair: U = ρ²(3 + ρ)/(1 + ρ)³.
        double rho = lambda / mu;
        double u = rho * rho * (3 + rho) / Math.Pow(1 + rho, 3);
        var p = e.Prediction!;
        Close.Relative(u, p.Unavailability, 1e-12);
        // The interval uses each rate's 95 % bounds (Bonferroni for 90 % overall); its worst corner is (λ high, μ low).
        double rhoHigh = (ChiSquared.InvCDF(8, 0.975) / (2 * 715.5)) / (ChiSquared.InvCDF(6, 0.025) / (2 * 4.5));
        Close.Relative(rhoHigh * rhoHigh * (3 + rhoHigh) / Math.Pow(1 + rhoHigh, 3), p.UnavailabilityUpper, 1e-10);
        Assert.True(p.AvailabilityLower < p.Availability && p.Availability < p.AvailabilityUpper);
        Assert.Equal(Verdict.Consistent, e.Verdict);
        Assert.StartsWith("Consistent", e.VerdictText, StringComparison.Ordinal);
    }

    [Fact]
    public void Correlated_failures_are_worse_than_predicted()
    {
        // n1 and n2 always fail together, 20 times in 1000 hours, each time for one hour.
        var log = new StringBuilder();
        log.AppendLine("""{"ts":"2026-03-01T00:00:00Z","event":"observation_start","nodes":["n1","n2","n3"]}""");
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 20; i++)
        {
            var down = start.AddHours(10 + (i * 50));
            foreach (var (node, ev, ts) in new[] { ("n1", "node_down", down), ("n2", "node_down", down), ("n1", "node_up", down.AddHours(1)), ("n2", "node_up", down.AddHours(1)) })
            {
                log.AppendLine($$"""{"ts":"{{ts:yyyy-MM-ddTHH:mm:ss}}Z","node":"{{node}}","event":"{{ev}}"}""");
            }
        }

        log.AppendLine("""{"ts":"2026-04-11T16:00:00Z","event":"observation_end"}""");
        var h = ObservedHistory.From(EventLog.Parse(log.ToString()));
        Assert.Equal(1000, h.WindowHours, 9);
        Assert.Equal(20, h.QuorumLosses);
        Close.Relative(0.02, h.MeasuredUnavailability, 1e-12);
        var e = AvailabilityEstimate.From(h);
        Assert.Equal(Verdict.WorseThanPredicted, e.Verdict);
        Assert.Contains("common cause", e.VerdictText, StringComparison.Ordinal);
    }

    [Fact]
    public void No_quorum_loss_in_a_short_window_is_consistent()
    {
        const string log = """
            {"ts":"2026-05-01T00:00:00Z","event":"observation_start","nodes":["a","b","c"]}
            {"ts":"2026-05-02T00:00:00Z","node":"a","event":"node_down"}
            {"ts":"2026-05-02T01:00:00Z","node":"a","event":"node_up"}
            {"ts":"2026-05-20T00:00:00Z","node":"b","event":"node_down"}
            {"ts":"2026-05-20T02:00:00Z","node":"b","event":"node_up"}
            {"ts":"2026-05-31T00:00:00Z","event":"observation_end"}
            """;
        var e = AvailabilityEstimate.From(ObservedHistory.From(EventLog.Parse(log)));
        Assert.Equal(1.0, e.Observed.MeasuredAvailability);
        Assert.Equal(Verdict.Consistent, e.Verdict);
        Assert.Contains("no quorum loss", e.VerdictText, StringComparison.Ordinal);
    }

    [Fact]
    public void No_repair_means_no_prediction_unless_mttr_is_given()
    {
        const string log = """
            {"ts":"2026-05-01T00:00:00Z","event":"observation_start","nodes":["a","b","c"]}
            {"ts":"2026-05-02T00:00:00Z","node":"a","event":"node_down"}
            {"ts":"2026-05-03T00:00:00Z","event":"observation_end"}
            """;
        var h = ObservedHistory.From(EventLog.Parse(log));
        var e = AvailabilityEstimate.From(h);
        Assert.Equal(Verdict.NoPrediction, e.Verdict);
        Assert.Null(e.Prediction);
        Assert.Contains("no completed repair", e.VerdictText, StringComparison.Ordinal);
        var given = AvailabilityEstimate.From(h, new EstimationOptions(RepairRateOverride: 0.5));
        Assert.NotNull(given.Prediction);
        Assert.Equal(0.5, given.RepairRateGiven);
    }

    [Fact]
    public void Node_down_at_window_start_and_repeated_records()
    {
        const string log = """
            {"ts":"2026-05-01T00:00:00Z","event":"observation_start"}
            {"ts":"2026-05-01T02:00:00Z","node":"a","event":"node_up"}
            {"ts":"2026-05-01T03:00:00Z","node":"b","event":"node_down"}
            {"ts":"2026-05-01T03:30:00Z","node":"b","event":"node_down"}
            {"ts":"2026-05-01T04:00:00Z","node":"b","event":"node_up"}
            {"ts":"2026-05-01T10:00:00Z","event":"observation_end"}
            """;
        // Node c never appears in the log; --nodes 3 says it was up throughout.
        var h = ObservedHistory.From(EventLog.Parse(log), nodes: 3);
        Assert.Equal(1, h.Failures);
        Assert.Equal(2, h.Repairs);
        Assert.Equal(1, h.RepeatedRecords);
        Assert.Equal(3, h.DownHours, 12);
        Assert.Equal(27, h.UpHours, 12);
        // a down 0–2 h and b down 3–4 h never overlap: a quorum of 2 of 3 is up throughout.
        Assert.Equal(1.0, h.MeasuredAvailability);
    }

    [Theory]
    [InlineData("{\"ts\":\"2026-01-01T00:00:00Z\",\"node\":\"a\",\"event\":\"node_down\"}\n{\"ts\":\"2026-01-01T01:00:00Z\",\"node\":\"a\",\"event\":\"node_up\"\n", 2, "record", "not valid JSON")]
    [InlineData("{\"node\":\"a\",\"event\":\"node_down\"}\n", 1, "ts", "missing field 'ts'")]
    [InlineData("{\"ts\":\"yesterday\",\"node\":\"a\",\"event\":\"node_down\"}\n", 1, "ts", "not an ISO-8601")]
    [InlineData("{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"node_down\"}\n", 1, "node", "missing field 'node'")]
    [InlineData("{\"ts\":\"2026-01-01T00:00:00Z\",\"node\":\"a\",\"event\":7}\n", 1, "event", "must be a string")]
    [InlineData("[1,2]\n", 1, "record", "expected a JSON object")]
    [InlineData("{\"ts\":\"2026-01-02T00:00:00Z\",\"node\":\"a\",\"event\":\"node_down\"}\n\n{\"ts\":\"2026-01-01T00:00:00Z\",\"node\":\"a\",\"event\":\"node_up\"}\n", 3, "ts", "earlier than")]
    [InlineData("{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"observation_start\",\"nodes\":\"a,b\"}\n", 1, "nodes", "array")]
    [InlineData("{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"observation_end\"}\n{\"ts\":\"2026-01-02T00:00:00Z\",\"node\":\"a\",\"event\":\"node_down\"}\n", 2, "event", "after observation_end")]
    public void Malformed_logs_report_line_and_field(string text, int line, string field, string fragment)
    {
        var e = Assert.Throws<EventLogFormatException>(() => EventLog.Parse(text));
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"line {line}: ", e.Reason, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_outside_the_declared_list_is_reported_with_its_line()
    {
        const string log = """
            {"ts":"2026-05-01T00:00:00Z","event":"observation_start","nodes":["a","b","c"]}
            {"ts":"2026-05-02T00:00:00Z","node":"d","event":"node_down"}
            """;
        var e = Assert.Throws<EventLogFormatException>(() => ObservedHistory.From(EventLog.Parse(log)));
        Assert.Equal(2, e.Line);
        Assert.Equal("node", e.Field);
    }

    [Fact]
    public void Node_count_and_quorum_are_checked_against_the_log()
    {
        var log = EventLog.Parse(SampleLog);
        Assert.Equal("nodes", Assert.Throws<AvailabilityInputException>(() => ObservedHistory.From(log, nodes: 2)).Field);
        Assert.Equal("quorum", Assert.Throws<AvailabilityInputException>(() => ObservedHistory.From(log, quorum: 4)).Field);
        Assert.Equal("log", Assert.Throws<AvailabilityInputException>(() => ObservedHistory.From(EventLog.Parse("\n"))).Field);
    }
}
