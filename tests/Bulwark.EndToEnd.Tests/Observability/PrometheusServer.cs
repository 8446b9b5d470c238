using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.Observability;

/// <summary>A real Prometheus on a free loopback port with its own config and data dir, scraping given targets every second.</summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ThirdPartyProcess process;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(ThirdPartyProcess process, string url)
    {
        this.process = process;
        Url = url;
    }

    public string Url { get; }

    public string Log => process.Log;

    /// <param name="ruleFiles">Alerting rule files to load (copied next to the config), e.g. deploy/prometheus/alerts.yml.</param>
    public static async Task<PrometheusServer> StartAsync(IEnumerable<string> targetUrls, IReadOnlyList<string>? ruleFiles = null)
    {
        var program = ExternalProgram.Require("prometheus", "prometheus");
        var dir = ThirdPartyProcess.NewDir("prom");
        var targets = string.Join(", ", targetUrls.Select(u => "'" + new Uri(u).Authority + "'"));
        var rules = new List<string>();
        foreach (var file in ruleFiles ?? [])
        {
            var copy = Path.Combine(dir, $"rules-{rules.Count}-{Path.GetFileName(file)}");
            File.Copy(file, copy);
            rules.Add("'" + copy + "'");
        }

        var config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [{string.Join(", ", rules)}]
            scrape_configs:
              - job_name: bulwark
                static_configs:
                  - targets: [{targets}]
            """).ConfigureAwait(false);
        var port = LoopbackPorts.Next();
        string[] arguments =
        [
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(dir, "data"),
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ];
        var server = new PrometheusServer(ThirdPartyProcess.Start("prometheus", program, arguments, dir), $"http://127.0.0.1:{port}");
        try
        {
            await server.process.WaitReadyAsync(async () =>
            {
                using var response = await server.http.GetAsync(server.Url + "/-/ready").ConfigureAwait(false);
                return response.IsSuccessStatusCode;
            }, e => e is HttpRequestException, TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false); // not ready: no process left behind
            throw;
        }

        return server;
    }

    /// <summary>An instant query: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string expression)
    {
        var json = await http.GetStringAsync($"{Url}/api/v1/query?query={Uri.EscapeDataString(expression)}").ConfigureAwait(false);
        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data");
        return [.. data.GetProperty("result").EnumerateArray().Select(r => (
            (IReadOnlyDictionary<string, string>)r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>Active alerts (pending or firing) from /api/v1/alerts: each alert's labels and state.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)>> AlertsAsync()
    {
        var json = await http.GetStringAsync($"{Url}/api/v1/alerts").ConfigureAwait(false);
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(a => (
            (IReadOnlyDictionary<string, string>)a.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            a.GetProperty("state").GetString() ?? ""))];
    }

    /// <summary>Polls /api/v1/alerts until <paramref name="accept"/> holds; returns the accepted answer.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)>> WaitForAlertsAsync(
        Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)>, bool> accept, TimeSpan patience, string what)
    {
        var deadline = DateTime.UtcNow + patience;
        IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, string State)> last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await AlertsAsync().ConfigureAwait(false);
            if (accept(last))
            {
                return last;
            }

            await Task.Delay(500).ConfigureAwait(false);
        }

        var seen = string.Join("; ", last.Select(a => a.State + " " + string.Join(",", a.Labels.Select(l => $"{l.Key}={l.Value}"))));
        throw new TimeoutException($"Prometheus never showed: {what} in {patience.TotalSeconds} s; last alerts: [{seen}]. Prometheus log:\n{Log}");
    }

    /// <summary>Polls <paramref name="expression"/> until <paramref name="accept"/> holds; returns the accepted answer.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> WaitForAsync(
        string expression, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> accept, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(expression).ConfigureAwait(false);
            if (accept(last))
            {
                return last;
            }

            await Task.Delay(500).ConfigureAwait(false);
        }

        var seen = string.Join("; ", last.Select(r => string.Join(",", r.Labels.Select(l => $"{l.Key}={l.Value}")) + " = " + r.Value.ToString(CultureInfo.InvariantCulture)));
        throw new TimeoutException($"Prometheus query '{expression}' never gave the expected answer in {patience.TotalSeconds} s; last: [{seen}]. Prometheus log:\n{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        await process.DisposeAsync().ConfigureAwait(false);
        http.Dispose();
    }
}
