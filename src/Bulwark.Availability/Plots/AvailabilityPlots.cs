using System.Globalization;
using Bulwark.Availability.Cluster;
using ScottPlot;

namespace Bulwark.Availability.Plots;

/// <summary>
/// Charts of cluster models, each written as a PNG and an SVG next to each other (ScottPlot 5, rendered by SkiaSharp,
/// so they work headless). Every method returns the two paths it wrote.
/// </summary>
public static class AvailabilityPlots
{
    public const int Width = 800;
    public const int Height = 480;

    private const string FontName = "DejaVu Sans";

    /// <summary>
    /// Point availability A(t) from all nodes up, for each labelled cluster, over [0, horizon] hours, with each
    /// model's steady-state availability as a dashed line.
    /// </summary>
    public static PlotFiles TransientAvailability(IReadOnlyList<(string Label, ClusterDescription Cluster)> clusters, double horizonHours, string basePath, int points = 200)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        if (clusters.Count == 0)
        {
            throw new AvailabilityInputException("clusters", "nothing to plot: no cluster given");
        }

        if (!double.IsFinite(horizonHours) || horizonHours <= 0)
        {
            throw new AvailabilityInputException("horizon", $"horizon is {horizonHours} h; it must be a finite number > 0");
        }

        var times = Enumerable.Range(0, points + 1).Select(i => horizonHours * i / points).ToArray();
        var plot = NewPlot("Point availability A(t) from all nodes up", "time since all nodes up (hours)", "availability A(t)");
        int colour = 0;
        foreach (var (label, cluster) in clusters)
        {
            var model = ClusterModel.Build(cluster);
            var a = ClusterAvailability.PointAvailability(model, times);
            var steady = ClusterAvailability.Analyze(model).Availability;
            var color = Palette(colour++);
            var line = plot.Add.Scatter(times, a);
            line.LegendText = label;
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.Color = color;
            var level = plot.Add.HorizontalLine(steady);
            level.LinePattern = LinePattern.Dashed;
            level.LineWidth = 1;
            level.Color = color;
            level.LegendText = $"steady state {steady.ToString("0.##########", CultureInfo.InvariantCulture)}";
        }

        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Axes.SetLimitsX(0, horizonHours);
        FormatY(plot, "0.##########");
        return Save(plot, basePath);
    }

    /// <summary>Nines of steady-state availability for 1..maxNodes nodes (majority quorum), other settings as given.</summary>
    public static PlotFiles AvailabilityByNodeCount(ClusterDescription cluster, int maxNodes, string basePath)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (maxNodes < 1 || maxNodes > 15)
        {
            throw new AvailabilityInputException("maxNodes", $"maxNodes is {maxNodes}; it must be between 1 and 15");
        }

        var nodes = Enumerable.Range(1, maxNodes).ToArray();
        var plot = NewPlot("Availability against cluster size (majority quorum)", "nodes", "nines  (−log10 unavailability)");
        var series = new List<(string Label, ClusterDescription Cluster)> { ("as described", cluster) };
        if (cluster.Failover is not null)
        {
            // The same cluster if leader failures cost nothing: shows how much of the downtime is failover.
            series.Add(("without failover outages", cluster with { Failover = null }));
        }

        double top = 1;
        for (int s = 0; s < series.Count; s++)
        {
            var nines = nodes.Select(n => ClusterAvailability.Analyze(series[s].Cluster with { Nodes = n, Quorum = null, RepairCrews = Crews(cluster, n) }).Nines).ToArray();
            top = Math.Max(top, nines.Where(double.IsFinite).DefaultIfEmpty(1).Max());
            var line = plot.Add.Scatter(nodes.Select(n => (double)n).ToArray(), nines);
            line.LegendText = series[s].Label;
            line.MarkerSize = 9;
            line.LineWidth = 1;
            line.Color = Palette(s);
            for (int i = 0; i < nodes.Length; i++)
            {
                var text = plot.Add.Text(nines[i].ToString("0.0", CultureInfo.InvariantCulture), nodes[i], nines[i]);
                text.LabelFontName = FontName;
                text.LabelFontSize = 12;
                text.LabelFontColor = Palette(s);
                // The first series is labelled below its points and the second above, so close values stay readable.
                text.LabelAlignment = s == 0 ? Alignment.UpperCenter : Alignment.LowerCenter;
                text.OffsetY = s == 0 ? 8 : -8;
            }
        }

        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.Axes.SetLimitsY(0, top * 1.15);
        plot.Axes.SetLimitsX(0.5, maxNodes + 0.5);
        return Save(plot, basePath);
    }

    /// <summary>Nines against the per-node mean time to repair, for the cluster as described and with two more nodes.</summary>
    public static PlotFiles MttrSensitivity(ClusterDescription cluster, IReadOnlyList<double> mttrHours, string basePath)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(mttrHours);
        if (mttrHours.Count < 2 || mttrHours.Any(h => !double.IsFinite(h) || h <= 0))
        {
            throw new AvailabilityInputException("mttr", "MTTR values must be at least two finite numbers > 0 (hours)");
        }

        var plot = NewPlot("Sensitivity to repair time", "per-node mean time to repair (hours)", "nines  (−log10 unavailability)");
        int colour = 0;
        foreach (var variant in SizeVariants(cluster))
        {
            var nines = mttrHours.Select(h => ClusterAvailability.Analyze(variant.Cluster with { RepairRate = 1 / h }).Nines).ToArray();
            var line = plot.Add.Scatter(mttrHours.ToArray(), nines);
            line.LegendText = variant.Label;
            line.MarkerSize = 5;
            line.LineWidth = 2;
            line.Color = Palette(colour++);
        }

        plot.Legend.Alignment = Alignment.UpperRight;
        return Save(plot, basePath);
    }

    /// <summary>Downtime per year against the failover duration (seconds), for the cluster as described and with two more nodes.</summary>
    public static PlotFiles FailoverSensitivity(ClusterDescription cluster, IReadOnlyList<double> failoverSeconds, string basePath)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(failoverSeconds);
        if (failoverSeconds.Count < 2 || failoverSeconds.Any(s => !double.IsFinite(s) || s < 0))
        {
            throw new AvailabilityInputException("failover", "failover durations must be at least two finite numbers ≥ 0 (seconds)");
        }

        double coverage = cluster.Failover?.Coverage ?? 1;
        var plot = NewPlot(
            $"Sensitivity to failover time (coverage {coverage.ToString("0.####", CultureInfo.InvariantCulture)})",
            "mean failover (leader election) time (seconds)",
            "downtime (minutes per year)");
        int colour = 0;
        double top = 0;
        foreach (var variant in SizeVariants(cluster))
        {
            var minutes = failoverSeconds
                .Select(s => ClusterAvailability.Analyze(variant.Cluster with { Failover = new FailoverModel(s / 3600, coverage) }).DowntimeMinutesPerYear)
                .ToArray();
            top = Math.Max(top, minutes.Max());
            var line = plot.Add.Scatter(failoverSeconds.ToArray(), minutes);
            line.LegendText = variant.Label;
            line.MarkerSize = 5;
            line.LineWidth = 2;
            line.Color = Palette(colour++);
        }

        plot.Axes.SetLimitsY(0, top * 1.08);
        return Save(plot, basePath);
    }

    private static IEnumerable<(string Label, ClusterDescription Cluster)> SizeVariants(ClusterDescription cluster)
    {
        cluster.Validate();
        yield return ($"{cluster.Nodes} nodes", cluster);
        int bigger = cluster.Nodes + 2;
        if (bigger <= 15)
        {
            // Keep the same fault tolerance rule: majority stays majority, k-of-n keeps the same number of spares.
            int? quorum = cluster.Quorum is { } k ? k + 2 : null;
            yield return ($"{bigger} nodes", cluster with { Nodes = bigger, Quorum = quorum, RepairCrews = Crews(cluster, bigger) });
        }
    }

    private static int? Crews(ClusterDescription cluster, int nodes) => cluster.RepairCrews is { } c ? Math.Min(c, nodes) : null;

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Legend.Alignment = Alignment.LowerRight;
        return plot;
    }

    private static void FormatY(Plot plot, string format) =>
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v.ToString(format, CultureInfo.InvariantCulture),
        };

    private static Color Palette(int i) => new ScottPlot.Palettes.Category10().GetColor(i);

    private static PlotFiles Save(Plot plot, string basePath)
    {
        if (string.IsNullOrWhiteSpace(basePath))
        {
            throw new AvailabilityInputException("out", "the output path is empty");
        }

        string stem = basePath.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || basePath.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)
            ? basePath[..^4]
            : basePath;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(stem));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        var files = new PlotFiles(stem + ".png", stem + ".svg");
        plot.SavePng(files.Png, Width, Height);
        plot.SaveSvg(files.Svg, Width, Height);
        return files;
    }
}

/// <summary>The two files a plot was written to.</summary>
public sealed record PlotFiles(string Png, string Svg);
