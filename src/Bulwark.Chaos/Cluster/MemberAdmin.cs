using System.Globalization;
using System.Text.Json.Nodes;

namespace Bulwark.Chaos.Cluster;

/// <summary>
/// A member's admin listener: its Prometheus metrics, and its fault points (<c>/debug/faults</c>, which answers only
/// callers on the member's own machine: inside a network namespace it is called through `ip netns exec ... curl`).
/// </summary>
public sealed class MemberAdmin(ChaosCluster cluster) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private readonly HttpClient http = new() { Timeout = Deadline };

    /// <summary>Sets a fault point on member <paramref name="i"/>; returns the member's answer (the active points).</summary>
    public Task<JsonNode> SetFaultAsync(int i, string json, CancellationToken cancel) => FaultsAsync(i, json, cancel);

    /// <summary>Member <paramref name="i"/>'s active fault points and clock offset.</summary>
    public Task<JsonNode> FaultsAsync(int i, CancellationToken cancel) => FaultsAsync(i, null, cancel);

    /// <summary>The sum (seconds) and count of member <paramref name="i"/>'s WAL fsyncs (etcd_disk_wal_fsync_duration_seconds).</summary>
    public async Task<(double Sum, long Count)> FsyncTotalsAsync(int i, CancellationToken cancel)
    {
        var text = await http.GetStringAsync(new Uri(cluster.Members[i].MetricsUrl + "/metrics"), cancel).ConfigureAwait(false);
        double sum = 0;
        long count = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("etcd_disk_wal_fsync_duration_seconds_sum", StringComparison.Ordinal))
            {
                sum = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("etcd_disk_wal_fsync_duration_seconds_count", StringComparison.Ordinal))
            {
                count = (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return (sum, count);
    }

    public void Dispose() => http.Dispose();

    private async Task<JsonNode> FaultsAsync(int i, string? postJson, CancellationToken cancel)
    {
        var url = cluster.Members[i].MetricsUrl + "/debug/faults";
        string body;
        int status;
        if (cluster.Lab is { } lab)
        {
            var (file, prefix) = lab.Exec(i, "curl");
            string[] args =
            [
                .. prefix, "-s", "-S", "--max-time", Deadline.TotalSeconds.ToString(CultureInfo.InvariantCulture), "-w", "\n%{http_code}",
                .. postJson is null ? (string[])[] : ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", postJson],
                url,
            ];
            var (code, output) = await Task.Run(() => Shell.Run(file, args), cancel).ConfigureAwait(false);
            if (code != 0)
            {
                throw new InvalidOperationException($"curl {url} failed ({code}): {output}");
            }

            var split = output.LastIndexOf('\n');
            body = split < 0 ? "" : output[..split];
            status = int.Parse(output[(split + 1)..], CultureInfo.InvariantCulture);
        }
        else
        {
            using var response = postJson is null
                ? await http.GetAsync(new Uri(url), cancel).ConfigureAwait(false)
                : await http.PostAsync(new Uri(url), new StringContent(postJson, System.Text.Encoding.UTF8, "application/json"), cancel).ConfigureAwait(false);
            body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }

        if (status != 200)
        {
            throw new InvalidOperationException($"{(postJson is null ? "GET" : "POST " + postJson)} {url}: {status} {body}");
        }

        return JsonNode.Parse(body) ?? throw new InvalidOperationException($"{url}: empty answer");
    }
}
