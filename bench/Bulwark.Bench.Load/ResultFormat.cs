using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Bench.Load;

/// <summary>Results as a fixed-width table for people and as JSON for scripts.</summary>
public static class ResultFormat
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static string Table(IEnumerable<LoadResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"workload",-26} {"clients",7} {"conns",5} {"ops",9} {"ops/s",9} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"p99.9 ms",8} {"max ms",8} {"errors",6}");
        foreach (var r in results)
        {
            var name = r.Workload == "put" ? "put" : $"{r.Workload} ({r.Consistency})";
            if (r.TargetRate is { } rate)
            {
                name += string.Create(CultureInfo.InvariantCulture, $" @{rate:0}/s");
            }

            var l = r.LatencyMs;
            text.AppendLine(CultureInfo.InvariantCulture, $"{name,-26} {r.Clients,7} {r.Connections,5} {r.Ops,9} {r.OpsPerSecond,9:0} {l.P50,8:0.00} {l.P90,8:0.00} {l.P99,8:0.00} {l.P999,8:0.00} {l.Max,8:0.00} {r.Errors,6}");
            foreach (var (kind, count) in r.ErrorsByKind)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{"",26}   error {kind}: {count}");
            }
        }

        return text.ToString();
    }
}
