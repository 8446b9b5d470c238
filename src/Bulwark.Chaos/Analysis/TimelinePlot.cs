using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Workload;
using ScottPlot;

namespace Bulwark.Chaos.Analysis;

/// <summary>The availability timeline: successful and failed (or unknown) operations per second in 250 ms bins,
/// each fault shaded from its start until it was undone and labelled. Written as PNG and SVG.</summary>
public static class TimelinePlot
{
    private const double BinMs = 250;

    public static (string Png, string Svg) Save(string system, IReadOnlyList<OpEvent> events, IReadOnlyList<FaultRecord> faults, double endMs, string directory)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(faults);
        var bins = (int)Math.Ceiling(endMs / BinMs) + 1;
        var ok = new double[bins];
        var failed = new double[bins];
        foreach (var e in events.Where(e => e.Kind != "final-get"))
        {
            var bin = Math.Clamp((int)(e.EndMs / BinMs), 0, bins - 1);
            if (e.Outcome == OpOutcome.Ok)
            {
                ok[bin] += 1000 / BinMs;
            }
            else
            {
                failed[bin] += 1000 / BinMs;
            }
        }

        var seconds = Enumerable.Range(0, bins).Select(i => i * BinMs / 1000).ToArray();
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.Title($"{system}: operations per second under faults");
        plot.XLabel("seconds since the workload started");
        plot.YLabel("operations / s");
        var top = Math.Max(1, ok.Concat(failed).Max()) * 1.15;
        foreach (var fault in faults)
        {
            var span = plot.Add.HorizontalSpan(fault.StartMs / 1000, fault.EndMs / 1000);
            span.FillStyle.Color = Colors.Orange.WithAlpha(0.25);
            span.LineStyle.Width = 0;
            var label = plot.Add.Text($"{fault.Kind} {fault.Target}", fault.StartMs / 1000, top);
            label.LabelFontSize = 10;
            label.LabelAlignment = Alignment.UpperLeft;
        }

        var good = plot.Add.Scatter(seconds, ok);
        good.LegendText = "ok";
        good.Color = Colors.SeaGreen;
        good.MarkerSize = 0;
        good.LineWidth = 1.5f;
        var bad = plot.Add.Scatter(seconds, failed);
        bad.LegendText = "failed or unknown";
        bad.Color = Colors.Crimson;
        bad.MarkerSize = 0;
        bad.LineWidth = 1.5f;
        plot.Axes.SetLimits(0, endMs / 1000, 0, top);
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();
        Directory.CreateDirectory(directory);
        var png = Path.Combine(directory, "timeline.png");
        var svg = Path.Combine(directory, "timeline.svg");
        plot.SavePng(png, 1200, 500);
        plot.SaveSvg(svg, 1200, 500);
        return (png, svg);
    }
}
