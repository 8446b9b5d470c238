using System.CommandLine;
using Bulwark.Availability;
using Bulwark.Availability.Cluster;
using static Bulwark.Cli.Commands.AvailabilityOutput;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability cluster`: steady-state figures of a cluster model generated from its description.</summary>
internal static class AvailabilityClusterCommand
{
    public static Command Create()
    {
        var options = new AvailabilityClusterOptions();
        var at = new Option<double[]>("--at-hours") { Description = "Also give point availability A(t) from all-up at these times (hours).", AllowMultipleArgumentsPerToken = true };
        var dataLoss = new Option<int?>("--data-loss-nodes") { Description = "Also give the mean time until this many nodes are down at once (MTTDL when failures destroy data)." };
        var json = NewJsonOption();
        var command = new Command("cluster", "Availability, nines, downtime, MTTF and outage statistics of an n-node quorum cluster.");
        options.AddTo(command);
        command.Options.Add(at);
        command.Options.Add(dataLoss);
        command.Options.Add(json);
        command.SetAction(parse => Run(parse, output =>
        {
            var description = options.Read(parse);
            var model = ClusterModel.Build(description);
            var result = ClusterAvailability.Analyze(model);
            var times = (parse.GetValue(at) ?? []).ToArray();
            if (times.Any(t => !double.IsFinite(t) || t < 0))
            {
                throw new AvailabilityInputException("at-hours", "--at-hours values must be finite numbers ≥ 0");
            }

            Array.Sort(times);
            var point = times.Length > 0 ? ClusterAvailability.PointAvailability(model, times) : [];
            var pointDown = times.Length > 0 ? ClusterAvailability.PointUnavailability(model, times) : [];
            int? lossNodes = parse.GetValue(dataLoss);
            double? mttdl = lossNodes is { } l ? model.MeanTimeUntilFailedNodes(l) : null;

            if (parse.GetValue(json))
            {
                WriteJson(output, new
                {
                    model = Describe(description),
                    result = new
                    {
                        result.Availability,
                        result.Unavailability,
                        result.Nines,
                        result.DowntimeMinutesPerYear,
                        result.MeanTimeToFailureHours,
                        result.MeanTimeToFailureWithoutRepairHours,
                        result.MeanUpTimeHours,
                        result.MeanDownTimeHours,
                        result.FailureFrequencyPerHour,
                        result.FailuresPerYear,
                        result.StateCount,
                        meanTimeToDataLossHours = mttdl,
                        dataLossNodes = lossNodes,
                    },
                    pointAvailability = times.Select((t, i) => new { hours = t, availability = point[i], unavailability = pointDown[i] }).ToArray(),
                });
                return 0;
            }

            var rows = new List<(string, string)?>
            {
                ("model", Summary(description)),
                ("states in chain", result.StateCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                null,
                ("availability", Probability(result.Availability)),
                ("unavailability", Small(result.Unavailability)),
                ("nines", Number(result.Nines, "0.00")),
                ("downtime per year", $"{Number(result.DowntimeMinutesPerYear, "0.####")} min"),
                ("MTTF from all up", Hours(result.MeanTimeToFailureHours)),
                ("MTTF without repair", Hours(result.MeanTimeToFailureWithoutRepairHours)),
                ("mean up time", Hours(result.MeanUpTimeHours)),
                ("mean down time", Hours(result.MeanDownTimeHours)),
                ("outage frequency", $"{Small(result.FailureFrequencyPerHour)} per hour ({Number(result.FailuresPerYear, "0.######")} per year)"),
            };
            if (mttdl is { } m)
            {
                rows.Add(($"mean time to {lossNodes} nodes down", Hours(m)));
            }

            if (times.Length > 0)
            {
                rows.Add(null);
                for (int i = 0; i < times.Length; i++)
                {
                    rows.Add(($"A({Number(times[i])} h)", $"{Probability(point[i])}  (unavailability {Small(pointDown[i])})"));
                }
            }

            WriteTable(output, "Cluster availability", rows);
            return 0;
        }));
        return command;
    }

    internal static object Describe(ClusterDescription d) => new
    {
        nodes = d.Nodes,
        quorum = d.QuorumSize,
        failureRatePerHour = d.FailureRate,
        repairRatePerHour = d.RepairRate,
        repairCrews = d.Crews,
        independentRepair = d.RepairCrews is null || d.RepairCrews >= d.Nodes,
        failoverSeconds = d.Failover is { } f ? f.MeanDurationHours * 3600 : (double?)null,
        coverage = d.Failover?.Coverage,
        commonCauseBeta = d.CommonCauseBeta,
    };

    internal static string Summary(ClusterDescription d)
    {
        string repair = d.RepairCrews is null || d.RepairCrews >= d.Nodes
            ? "independent repair"
            : d.RepairCrews == 1 ? "one shared repair crew" : $"{d.RepairCrews} repair crews";
        string text = $"{d.Nodes} nodes, quorum {d.QuorumSize}, MTBF {Number(1 / d.FailureRate, "#,0.##")} h, MTTR {Number(1 / d.RepairRate, "0.####")} h, {repair}";
        if (d.Failover is { } f)
        {
            text += $", failover {Number(f.MeanDurationHours * 3600, "0.##")} s (coverage {Number(f.Coverage)})";
        }

        if (d.CommonCauseBeta > 0)
        {
            text += $", β = {Number(d.CommonCauseBeta)}";
        }

        return text;
    }
}
