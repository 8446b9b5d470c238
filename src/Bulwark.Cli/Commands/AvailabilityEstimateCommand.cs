using System.CommandLine;
using Bulwark.Availability;
using Bulwark.Availability.Cluster;
using Bulwark.Availability.Estimation;
using static Bulwark.Cli.Commands.AvailabilityOutput;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability estimate`: rates from an event log, the predicted availability, and the measured one.</summary>
internal static class AvailabilityEstimateCommand
{
    public static Command Create()
    {
        var log = new Option<string>("--log") { Description = "JSON-lines event log of node_up / node_down records (see docs/availability.md).", Required = true };
        var nodes = new Option<int?>("--nodes", "-n") { Description = "Cluster size. Default: the nodes the log names." };
        var quorum = new Option<int?>("--quorum", "-k") { Description = "Nodes that must be up. Default: a majority." };
        var confidence = new Option<double>("--confidence") { Description = "Two-sided confidence level of the intervals.", DefaultValueFactory = _ => 0.9 };
        var step = new Option<double>("--step-hours") { Description = "Step length for the discrete-time p01 and p10.", DefaultValueFactory = _ => 1.0 };
        var mttr = new Option<double?>("--mttr-hours") { Description = "Use this per-node MTTR instead of estimating it from the log." };
        var shared = new Option<bool>("--shared-repair") { Description = "Model one shared repair crew." };
        var failover = new Option<double?>("--failover-seconds") { Description = "Model a failover of this mean duration after each leader failure." };
        var coverage = new Option<double>("--coverage") { Description = "Failover coverage.", DefaultValueFactory = _ => 1.0 };
        var beta = new Option<double>("--beta") { Description = "Common-cause β-factor.", DefaultValueFactory = _ => 0.0 };
        var json = AvailabilityOutput.NewJsonOption();
        var command = new Command("estimate", "Estimate λ and μ from an event log, predict availability with intervals, and compare with the measured availability.");
        foreach (var o in new Option[] { log, nodes, quorum, confidence, step, mttr, shared, failover, coverage, beta, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Run(parse, output =>
        {
            var history = ObservedHistory.From(EventLog.Load(parse.GetValue(log)!), parse.GetValue(nodes), parse.GetValue(quorum));
            if (parse.GetValue(mttr) is { } m && (!double.IsFinite(m) || m <= 0))
            {
                throw new AvailabilityInputException("mttr-hours", $"--mttr-hours is {m}; it must be a finite number of hours > 0");
            }

            FailoverModel? failoverModel = parse.GetValue(failover) is { } s ? new FailoverModel(s / 3600, parse.GetValue(coverage)) : null;
            var options = new EstimationOptions(
                parse.GetValue(confidence),
                parse.GetValue(step),
                parse.GetValue(shared) ? 1 : null,
                failoverModel,
                parse.GetValue(beta),
                parse.GetValue(mttr) is { } hours ? 1 / hours : null);
            var e = AvailabilityEstimate.From(history, options);
            var h = e.Observed;

            if (parse.GetValue(json))
            {
                WriteJson(output, new
                {
                    observed = new
                    {
                        h.Nodes,
                        h.Quorum,
                        windowStart = h.WindowStart.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        windowEnd = h.WindowEnd.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        h.WindowHours,
                        h.Failures,
                        h.UpHours,
                        h.Repairs,
                        h.DownHours,
                        h.QuorumLosses,
                        h.QuorumDownHours,
                        h.RepeatedRecords,
                        measuredAvailability = h.MeasuredAvailability,
                        measuredUnavailability = h.MeasuredUnavailability,
                    },
                    confidence = options.Confidence,
                    failureRate = e.FailureRate,
                    repairRate = e.RepairRate,
                    repairRateGiven = e.RepairRateGiven,
                    stepHours = e.StepHours,
                    p01 = e.P01,
                    p10 = e.P10,
                    prediction = e.Prediction,
                    verdict = e.Verdict,
                    verdictText = e.VerdictText,
                });
                return 0;
            }

            string pct = Number(options.Confidence * 100, "0.##") + " %";
            var rows = new List<(string, string)?>
            {
                ("observation window", $"{h.WindowStart:yyyy-MM-dd HH:mm} .. {h.WindowEnd:yyyy-MM-dd HH:mm} UTC ({Hours(h.WindowHours)})"),
                ("nodes / quorum", $"{h.Nodes} / {h.Quorum}"),
                ("node failures", $"{h.Failures} in {Number(h.UpHours, "#,0.##")} node-hours up"),
                ("node repairs", $"{h.Repairs} in {Number(h.DownHours, "#,0.##")} node-hours down"),
                null,
                ("λ (failures per hour)", $"{Small(e.FailureRate.Rate)}   {pct} interval [{Small(e.FailureRate.Lower)}, {Small(e.FailureRate.Upper)}]"),
                ("node MTBF", Hours(e.FailureRate.MeanHours)),
            };
            if (e.RepairRate is { } mu)
            {
                rows.Add(("μ (repairs per hour)", $"{Small(mu.Rate)}   {pct} interval [{Small(mu.Lower)}, {Small(mu.Upper)}]"));
                rows.Add(("node MTTR", Hours(mu.MeanHours)));
            }

            if (e.RepairRateGiven is { } given)
            {
                rows.Add(("μ used (given)", $"{Small(given)} per hour (MTTR {Hours(1 / given)})"));
            }

            if (e.P01 is { } a && e.P10 is { } b)
            {
                rows.Add(($"p01 / p10 per {Number(e.StepHours)} h step", $"{Small(a)} / {Small(b)}"));
            }

            rows.Add(null);
            if (e.Prediction is { } p)
            {
                rows.Add(("predicted availability", $"{Probability(p.Availability)}   {pct} interval [{Probability(p.AvailabilityLower)}, {Probability(p.AvailabilityUpper)}]"));
                rows.Add(("predicted unavailability", $"{Small(p.Unavailability)}   [{Small(p.UnavailabilityLower)}, {Small(p.UnavailabilityUpper)}]"));
                rows.Add(("predicted downtime per year", $"{Number(p.Unavailability * ClusterAvailability.HoursPerYear * 60, "0.###")} min"));
            }

            rows.Add(("measured availability", $"{Probability(h.MeasuredAvailability)}   ({h.QuorumLosses} quorum loss(es), {Hours(h.QuorumDownHours)} without quorum)"));
            WriteTable(output, "Availability estimated from the event log", rows);
            output.WriteLine();
            output.WriteLine($"Verdict: {e.VerdictText}");
            return 0;
        }));
        return command;
    }
}
