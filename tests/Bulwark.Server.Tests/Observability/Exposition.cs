using System.Globalization;

namespace Bulwark.Server.Tests.Observability;

/// <summary>A parsed Prometheus text exposition: each family's declared type and every sample's value.</summary>
internal sealed class Exposition
{
    private Exposition(Dictionary<string, string> types, List<(string Name, string Labels, double Value)> samples)
    {
        Types = types;
        Samples = samples;
    }

    /// <summary>Family name -> counter, gauge, histogram, summary or untyped.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public IReadOnlyList<(string Name, string Labels, double Value)> Samples { get; }

    public static Exposition Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<(string, string, double)>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(types.TryAdd(parts[2], parts[3]), $"family {parts[2]} declared twice");
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var name = brace >= 0 && brace < space ? line[..brace] : line[..space];
            var labels = brace >= 0 && brace < space ? line[(brace + 1)..line.LastIndexOf('}')] : "";
            var value = line[(space + 1)..] switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var number => double.Parse(number, CultureInfo.InvariantCulture),
            };
            samples.Add((name, labels, value));
        }

        return new Exposition(types, samples);
    }

    /// <summary>The value of the sample with exactly these labels ("" for none); null when absent.</summary>
    public double? Value(string name, string labels = "") =>
        Samples.Where(s => s.Name == name && s.Labels == labels).Select(s => (double?)s.Value).FirstOrDefault();

    public bool Has(string name) => Samples.Any(s => s.Name == name);
}
