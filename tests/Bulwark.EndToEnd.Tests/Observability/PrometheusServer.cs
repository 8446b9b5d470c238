using System.Diagnostics;
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
    private readonly Process process;
    private readonly string dir;
    private readonly StringBuilder log = new();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(Process process, string dir, string url)
    {
        this.process = process;
        this.dir = dir;
        Url = url;
    }

    public string Url { get; }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <param name="ruleFiles">Alerting rule files to load (copied next to the config), e.g. deploy/prometheus/alerts.yml.</param>
    public static async Task<PrometheusServer> StartAsync(IEnumerable<string> targetUrls, IReadOnlyList<string>? ruleFiles = null)
    {
        var program = ExternalProgram.Require("prometheus", "prometheus");
        var dir = Path.Combine(Path.GetTempPath(), "bulwark-prom-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
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
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(dir, "data"),
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start prometheus");
        var server = new PrometheusServer(process, dir, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitReadyAsync().ConfigureAwait(false);
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

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(Url + "/-/ready").ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"prometheus not ready after 60 s:\n{Log}");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }


    public async ValueTask DisposeAsync()
    {
        try
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        process.Dispose();
        http.Dispose();
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // a temp dir left behind is harmless
        }
    }
}
