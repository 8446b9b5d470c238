using System.Globalization;
using System.Net;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Availability.Estimation;
using Bulwark.Server.Observability;
using Bulwark.EndToEnd.Tests.Processes;
using Google.Protobuf;
using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.Observability;

/// <summary>
/// Observability of a real 3-process cluster, before and after its leader is killed: health endpoints, metrics on the
/// admin listener, a real Prometheus scraping them, the status page in headless Chromium, and the event journal fed
/// to the availability estimator. One cluster for all of it keeps the run short.
/// </summary>
public sealed class ClusterObservabilityTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Metrics_health_prometheus_status_page_and_journal_follow_a_leader_failure()
    {
        var chromium = ExternalProgram.Require("chromium", "chromium chromium-driver");
        ExternalProgram.Require("prometheus", "prometheus");
        await using var cluster = await ProcessCluster.StartAsync(3);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var admin = cluster.MetricsUrls;
        var leader = await cluster.WaitForLeaderAsync();

        // Health as a load balancer sees it.
        for (var i = 0; i < cluster.Size; i++)
        {
            var (_, body) = await WaitForStatusAsync(http, admin[i] + "/health", HttpStatusCode.OK);
            Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", body);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, admin[i] + "/livez")).Code);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, admin[i] + "/readyz")).Code);
            Assert.Equal(i == leader ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, (await GetAsync(http, admin[i] + "/health/leader")).Code);
            Assert.Equal(i == leader ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, (await GetAsync(http, admin[i] + "/health/replica?lag=1000")).Code);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(http, admin[leader] + "/health/replica?lag=soon")).Code);

        for (var k = 0; k < 5; k++)
        {
            await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"obs/{k}"), Value = ByteString.CopyFromUtf8("v") });
        }

        var metrics = await GetAsync(http, admin[leader] + "/metrics");
        Assert.Equal(1, Value(metrics.Body, "etcd_server_has_leader"));
        Assert.Equal(1, Value(metrics.Body, "etcd_server_is_leader"));
        Assert.True(Value(metrics.Body, "etcd_server_proposals_applied_total") >= 5);
        Assert.Equal(5, Value(metrics.Body, "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"));
        Assert.Contains("etcd_network_peer_round_trip_time_seconds_bucket{To=", metrics.Body, StringComparison.Ordinal);
        Assert.Contains("etcd_disk_wal_fsync_duration_seconds_count ", metrics.Body, StringComparison.Ordinal);

        await using var prometheus = await PrometheusServer.StartAsync(admin);
        await prometheus.WaitForAsync("etcd_server_has_leader", r => r.Count == 3 && r.All(s => s.Value == 1), Patience);

        // The leader dies without a goodbye.
        var killed = cluster.Names[leader];
        await cluster.KillAsync(leader);
        var newLeader = await cluster.WaitForLeaderAsync(notLeader: leader);
        var down = await WaitForMetricAsync(http, admin[newLeader], $"bulwark_peer_state{{To=", $"peer=\"{killed}\"}}", 2);
        Assert.True(down, $"new leader {cluster.Names[newLeader]} never judged {killed} down");
        foreach (var survivor in cluster.Running)
        {
            var text = (await GetAsync(http, admin[survivor] + "/metrics")).Body;
            Assert.Equal(1, Value(text, "etcd_server_has_leader"));
            Assert.True(Value(text, "etcd_server_leader_changes_seen_total") >= 1, $"{cluster.Names[survivor]} saw no leader change:\n{text}");
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, admin[newLeader] + "/health/leader")).Code);
        var leaderMetrics = (await GetAsync(http, admin[newLeader] + "/metrics")).Body;
        Assert.Contains(Lines(leaderMetrics, "bulwark_peer_suspicion_phi{"), l => l.Contains($"peer=\"{killed}\"", StringComparison.Ordinal));

        // Prometheus saw the failover.
        var survivors = cluster.Running.Select(i => new Uri(admin[i]).Authority).ToHashSet();
        await prometheus.WaitForAsync("etcd_server_leader_changes_seen_total",
            r => survivors.All(s => r.Any(x => x.Labels["instance"] == s && x.Value >= 1)), Patience);
        await prometheus.WaitForAsync("etcd_server_has_leader",
            r => survivors.All(s => r.Any(x => x.Labels["instance"] == s && x.Value == 1)), Patience);
        await prometheus.WaitForAsync($"up{{instance=\"{new Uri(admin[leader]).Authority}\"}}", r => r.Count == 1 && r[0].Value == 0, Patience);

        // The status page, rendered by a real browser, shows three members with the killed one down.
        var profile = Path.Combine(Path.GetTempPath(), "bulwark-chromium-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            string[] common =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--user-data-dir=" + profile, "--virtual-time-budget=5000",
            ];
            // The page shows what the new leader's detector and Status probes say right now; on a loaded machine a
            // survivor can be SUSPECT (or slow to answer its probe) for a moment just after the election. Render until
            // the page has settled, then assert on that rendering.
            var settleBy = DateTime.UtcNow + Patience;
            var dom = await ExternalProgram.RunAsync(chromium, [.. common, "--dump-dom", admin[newLeader] + "/"], TimeSpan.FromSeconds(90));
            while (dom.Exit == 0 && CountOf(dom.Stdout, "data-state=\"UP\"") != 2 && DateTime.UtcNow < settleBy)
            {
                await Task.Delay(1000);
                dom = await ExternalProgram.RunAsync(chromium, [.. common, "--dump-dom", admin[newLeader] + "/"], TimeSpan.FromSeconds(90));
            }

            Assert.True(dom.Exit == 0, $"chromium exited with {dom.Exit}: {dom.Stderr}");
            foreach (var name in cluster.Names)
            {
                Assert.Contains($"data-member=\"{name}\"", dom.Stdout, StringComparison.Ordinal);
            }

            Assert.Contains($"data-member=\"{killed}\" data-state=\"DOWN\"", dom.Stdout, StringComparison.Ordinal);
            Assert.Equal(2, CountOf(dom.Stdout, "data-state=\"UP\""));
            // Into this test's own temp dir (deleted below), never a fixed /tmp path another run could share.
            var screenshot = Path.Combine(profile, "status-page.png");
            var shot = await ExternalProgram.RunAsync(chromium, [.. common, "--window-size=1280,900", "--screenshot=" + screenshot, admin[newLeader] + "/"], TimeSpan.FromSeconds(90));
            Assert.True(shot.Exit == 0 && new FileInfo(screenshot).Length > 10_000, $"no screenshot: {shot.Stderr}");
        }
        finally
        {
            if (Directory.Exists(profile))
            {
                Directory.Delete(profile, recursive: true);
            }
        }

        // The killed node comes back; the new leader's journal then holds a failure and a repair the estimator can use.
        cluster.Start(leader);
        Assert.True(await WaitForMetricAsync(http, admin[newLeader], "bulwark_peer_state{To=", $"peer=\"{killed}\"}}", 0), $"{killed} never seen up again");
        var journal = Path.Combine(cluster.DataDir(newLeader), "journal", EventJournal.FileName);
        var log = EventLog.Load(journal);
        Assert.Contains(log.Transitions, t => t.Node == killed && !t.IsUp);
        Assert.Contains(log.Transitions, t => t.Node == killed && t.IsUp);
        var text2 = await File.ReadAllTextAsync(journal);
        Assert.Contains("\"event\":\"leader_changed\"", text2, StringComparison.Ordinal);
        Assert.Contains("\"event\":\"peer_down\"", text2, StringComparison.Ordinal);
        var estimate = AvailabilityEstimate.From(ObservedHistory.From(log));
        Assert.True(estimate.FailureRate.Events >= 1);
        Assert.True(double.IsFinite(estimate.FailureRate.Rate) && estimate.FailureRate.Rate > 0, $"failure rate {estimate.FailureRate.Rate}");
        Assert.True(estimate.FailureRate.Lower <= estimate.FailureRate.Rate && estimate.FailureRate.Rate <= estimate.FailureRate.Upper);
        var repair = Assert.IsType<RateEstimate>(estimate.RepairRate);
        Assert.True(double.IsFinite(repair.Rate) && repair.Rate > 0, $"repair rate {repair.Rate}");
        // One of three members down never loses the quorum.
        Assert.Equal(1.0, estimate.Observed.MeasuredAvailability, 9);
    }

    private static async Task<(HttpStatusCode Code, string Body)> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(HttpStatusCode Code, string Body)> WaitForStatusAsync(HttpClient http, string url, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow + Patience;
        (HttpStatusCode, string) last = default;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await GetAsync(http, url);
                if (last.Item1 == wanted)
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // admin listener not up yet
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{url} never answered {wanted}; last {last.Item1} {last.Item2}");
    }

    /// <summary>Waits until a series whose line starts with <paramref name="prefix"/> and contains <paramref name="labelPart"/> has <paramref name="value"/>.</summary>
    private static async Task<bool> WaitForMetricAsync(HttpClient http, string adminUrl, string prefix, string labelPart, double value)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var text = (await GetAsync(http, adminUrl + "/metrics")).Body;
            if (Lines(text, prefix).Any(l => l.Contains(labelPart, StringComparison.Ordinal) && ParseValue(l) == value))
            {
                return true;
            }

            await Task.Delay(250);
        }

        return false;
    }

    private static IEnumerable<string> Lines(string text, string prefix) =>
        text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal));

    private static double Value(string text, string series)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"series {series} not exposed:\n{text}");
        return ParseValue(line);
    }

    private static double ParseValue(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
