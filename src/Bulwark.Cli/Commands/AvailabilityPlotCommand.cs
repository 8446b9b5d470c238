using System.CommandLine;
using Bulwark.Availability;
using Bulwark.Availability.Cluster;
using Bulwark.Availability.Plots;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability plot KIND`: charts of a cluster model as PNG and SVG.</summary>
internal static class AvailabilityPlotCommand
{
    private static readonly string[] Kinds = ["transient", "nodes", "mttr", "failover", "all"];

    public static Command Create()
    {
        var options = new AvailabilityClusterOptions();
        var kind = new Argument<string>("kind") { Description = "transient (A(t) curves), nodes (availability vs cluster size), mttr, failover (sensitivity), or all." };
        kind.AcceptOnlyFromAmong(Kinds);
        var output = new Option<string>("--out", "-o") { Description = "Output path without extension (writes .png and .svg); for 'all', a directory.", Required = true };
        var horizon = new Option<double?>("--horizon-hours") { Description = "Time axis of the transient plot. Default: 10 × MTTR." };
        var maxNodes = new Option<int>("--max-nodes") { Description = "Largest cluster in the nodes plot.", DefaultValueFactory = _ => 9 };
        var command = new Command("plot", "Plot A(t), availability against cluster size, and sensitivity to MTTR and failover time (PNG + SVG).");
        command.Arguments.Add(kind);
        options.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(horizon);
        command.Options.Add(maxNodes);
        command.SetAction(parse => AvailabilityOutput.Run(parse, writer =>
        {
            var cluster = options.Read(parse);
            string which = parse.GetValue(kind)!;
            string target = parse.GetValue(output)!;
            var written = new List<PlotFiles>();
            string Path(string name) => which == "all" ? System.IO.Path.Combine(target, $"availability-{name}") : target;
            if (which is "transient" or "all")
            {
                double hours = parse.GetValue(horizon) ?? 10 / cluster.RepairRate;
                var curves = new List<(string, ClusterDescription)> { (AvailabilityClusterCommand.Summary(cluster), cluster) };
                written.Add(AvailabilityPlots.TransientAvailability(curves, hours, Path("transient")));
            }

            if (which is "nodes" or "all")
            {
                written.Add(AvailabilityPlots.AvailabilityByNodeCount(cluster, parse.GetValue(maxNodes), Path("nodes")));
            }

            if (which is "mttr" or "all")
            {
                double mttr = 1 / cluster.RepairRate;
                var range = Enumerable.Range(0, 41).Select(i => mttr * Math.Pow(10, -1 + (i * 0.05))).ToArray();
                written.Add(AvailabilityPlots.MttrSensitivity(cluster, range, Path("mttr")));
            }

            if (which is "failover" or "all")
            {
                double current = cluster.Failover?.MeanDurationHours * 3600 ?? 10;
                double top = Math.Max(60, current * 2);
                var range = Enumerable.Range(0, 31).Select(i => top * i / 30).ToArray();
                var withFailover = cluster.Failover is null ? cluster with { Failover = new FailoverModel(current / 3600) } : cluster;
                written.Add(AvailabilityPlots.FailoverSensitivity(withFailover, range, Path("failover")));
            }

            foreach (var files in written)
            {
                writer.WriteLine($"wrote {files.Png}");
                writer.WriteLine($"wrote {files.Svg}");
            }

            return 0;
        }));
        return command;
    }
}
