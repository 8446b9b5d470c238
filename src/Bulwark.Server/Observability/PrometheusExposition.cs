using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Bulwark.Server.Observability;

/// <summary>
/// Serves one <see cref="Meter"/>'s instruments in the Prometheus text exposition format (version 0.0.4) through a
/// <see cref="MeterListener"/>. Our own writer rather than an exporter package so the names are exactly etcd's
/// (instrument names are used as they are; no unit or _total suffixes are added). Counters are summed from the start,
/// observable instruments are read at scrape time, histograms use the bucket bounds given per instrument. Thread-safe.
/// </summary>
public sealed class PrometheusExposition : IDisposable
{
    private readonly object gate = new();
    private readonly MeterListener listener = new();
    private readonly Meter meter;
    private readonly IReadOnlyDictionary<string, double[]> bucketsByName;
    private readonly SortedDictionary<string, Series> series = new(StringComparer.Ordinal);

    public PrometheusExposition(Meter meter, IReadOnlyDictionary<string, double[]> bucketsByName)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(bucketsByName);
        this.meter = meter;
        this.bucketsByName = bucketsByName;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, this.meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
    }

    /// <summary>Reads the observable instruments and renders every series.</summary>
    public string Scrape()
    {
        lock (gate)
        {
            foreach (var s in series.Values.Where(s => s.Observable))
            {
                s.Seen = false;
            }
        }

        listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (gate)
        {
            foreach (var group in series.Values.Where(s => !s.Observable || s.Seen).GroupBy(s => s.Name))
            {
                var first = group.First();
                text.Append("# HELP ").Append(first.Name).Append(' ').Append(Escape(first.Help)).Append('\n');
                text.Append("# TYPE ").Append(first.Name).Append(' ').Append(first.Type).Append('\n');
                foreach (var s in group)
                {
                    s.Render(text);
                }
            }
        }

        return text.ToString();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var key = instrument.Name + labels;
        lock (gate)
        {
            if (!series.TryGetValue(key, out var s))
            {
                s = new Series(instrument, labels, bucketsByName.TryGetValue(instrument.Name, out var bounds) ? bounds : null);
                series[key] = s;
            }

            s.Add(value);
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<KeyValuePair<string, object?>>(tags.ToArray());
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return "{" + string.Join(",", pairs.Select(p => $"{p.Key}=\"{EscapeLabel(Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? string.Empty)}\"")) + "}";
    }

    private static string Escape(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => listener.Dispose();

    private sealed class Series
    {
        private readonly string labels;
        private readonly double[]? bounds;
        private readonly long[]? bucketCounts;
        private readonly bool cumulative;
        private double value;
        private long count;

        public Series(Instrument instrument, string labels, double[]? bounds)
        {
            Name = instrument.Name;
            Help = instrument.Description ?? instrument.Name;
            this.labels = labels;
            var kind = instrument.GetType().Name;
            Observable = kind.StartsWith("Observable", StringComparison.Ordinal);
            cumulative = kind.StartsWith("Counter", StringComparison.Ordinal);
            if (kind.StartsWith("Histogram", StringComparison.Ordinal))
            {
                Type = "histogram";
                this.bounds = bounds ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
                bucketCounts = new long[this.bounds.Length];
            }
            else
            {
                Type = kind.Contains("Counter", StringComparison.Ordinal) && !kind.Contains("UpDown", StringComparison.Ordinal) ? "counter" : "gauge";
            }
        }

        public string Name { get; }

        public string Help { get; }

        public string Type { get; }

        public bool Observable { get; }

        public bool Seen { get; set; }

        public void Add(double measurement)
        {
            Seen = true;
            if (bucketCounts is not null)
            {
                value += measurement;
                count++;
                for (var i = 0; i < bounds!.Length; i++)
                {
                    if (measurement <= bounds[i])
                    {
                        bucketCounts[i]++;
                    }
                }
            }
            else if (cumulative || Type == "gauge" && !Observable)
            {
                // Counter and UpDownCounter measurements are increments.
                value += measurement;
            }
            else
            {
                value = measurement;
            }
        }

        public void Render(StringBuilder text)
        {
            if (bucketCounts is null)
            {
                text.Append(Name).Append(labels).Append(' ').Append(Format(value)).Append('\n');
                return;
            }

            var inner = labels.Length == 0 ? string.Empty : labels[1..^1] + ",";
            for (var i = 0; i < bounds!.Length; i++)
            {
                text.Append(Name).Append("_bucket{").Append(inner).Append("le=\"").Append(Format(bounds[i])).Append("\"} ")
                    .Append(bucketCounts[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(Name).Append("_bucket{").Append(inner).Append("le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(Name).Append("_sum").Append(labels).Append(' ').Append(Format(value)).Append('\n');
            text.Append(Name).Append("_count").Append(labels).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
