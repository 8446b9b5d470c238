using System.Text.RegularExpressions;
using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Api;
using Bulwark.Server.Tests.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Observability;

/// <summary>
/// The /metrics exposition (prometheus-net on a registry per node): every metric docs/operations.md lists is there from
/// the start with its documented type, zero-valued until something happens; nodes in one process keep apart; every
/// failover is counted.
/// </summary>
public sealed partial class PrometheusMetricsTests
{
    [Fact]
    public async Task Every_documented_metric_is_exposed_at_start_with_its_type_and_the_scrape_passes_promtool()
    {
        var documented = DocumentedMetrics();
        Assert.True(documented.Count >= 40, $"only {documented.Count} metrics found in docs/operations.md's table");

        await using var cluster = new ObservedApiCluster(3);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var text = cluster.Observability(0).ScrapeMetrics();
        var scrape = Exposition.Parse(text);

        var problems = new List<string>();
        foreach (var (name, type) in documented)
        {
            if (!scrape.Types.TryGetValue(name, out var actual))
            {
                problems.Add($"{name}: not exposed");
            }
            else if (actual != type)
            {
                problems.Add($"{name}: exposed as {actual}, documented as {type}");
            }
            else if (!scrape.Has(type == "histogram" ? name + "_count" : name))
            {
                problems.Add($"{name}: declared but has no sample");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));

        // Histograms of rare events exist with zero counts before their first event (rate() needs a start).
        foreach (var rare in new[] { "bulwark_failover_duration_seconds", "bulwark_snapshot_duration_seconds" })
        {
            Assert.Equal(0, scrape.Value(rare + "_count"));
            Assert.Equal(0, scrape.Value(rare + "_bucket", "le=\"+Inf\""));
        }

        Assert.Equal(1, scrape.Value("etcd_server_version", $"server_version=\"{MaintenanceService.ApiVersion}\""));
        Assert.True(scrape.Value("process_resident_memory_bytes") > 0, "process_resident_memory_bytes is not positive");
        Assert.True(scrape.Value("process_open_fds") > 0, "process_open_fds is not positive");
        // Every served method's series exist before its first call, handled for every code (go-grpc-prometheus does so).
        Assert.Equal(0, scrape.Value("grpc_server_started_total", "grpc_method=\"Compact\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\""));
        Assert.Equal(0, scrape.Value("grpc_server_handled_total",
            "grpc_code=\"Unavailable\",grpc_method=\"Watch\",grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\""));
        // etcd's bucket layouts.
        Assert.True(scrape.Value("etcd_disk_backend_commit_duration_seconds_bucket", "le=\"8.192\"") is not null, "backend commit buckets are not 0.001 * 2^n up to 8.192");
        Assert.True(scrape.Value("etcd_disk_wal_fsync_duration_seconds_bucket", "le=\"0.001\"") is not null, "fsync buckets do not start at 1 ms");

        var promtool = ExternalProgram.Require("promtool", "prometheus");
        var file = Path.Combine(Path.GetTempPath(), "bulwark-scrape-" + Guid.NewGuid().ToString("N")[..8] + ".prom");
        await File.WriteAllTextAsync(file, text);
        try
        {
            var check = await ExternalProgram.RunAsync("/bin/sh", ["-c", $"'{promtool}' check metrics < '{file}'"], TimeSpan.FromSeconds(60));
            // Exit 1 is a format error; exit 3 lists lint problems: only etcd's own counters named without _total may be among them.
            var lint = (check.Stdout + check.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var notEtcds = lint.Where(p =>
                !EtcdNamesWithoutTotal.Any(name => p.StartsWith(name + " counter metrics should have \"_total\" suffix", StringComparison.Ordinal)) &&
                !EtcdGaugesWithTotal.Any(name => p.StartsWith(name + " non-counter metrics should not have \"_total\" suffix", StringComparison.Ordinal))).ToList();
            Assert.True(check.Exit == 0 || (check.Exit == 3 && notEtcds.Count == 0), $"promtool check metrics failed (exit {check.Exit}):\n{string.Join("\n", notEtcds)}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Gauges_counters_and_histograms_record_what_happens()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var before = Exposition.Parse(cluster.Observability(0).ScrapeMetrics());
        await cluster.Kv(0).PutAsync(new Bulwark.Api.Etcdserverpb.PutRequest
        {
            Key = Google.Protobuf.ByteString.CopyFromUtf8("metrics/k"),
            Value = Google.Protobuf.ByteString.CopyFromUtf8("v"),
        });
        var after = Exposition.Parse(cluster.Observability(0).ScrapeMetrics());

        const string Put = "grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
        Assert.Equal(before.Value("grpc_server_started_total", Put) + 1, after.Value("grpc_server_started_total", Put));
        Assert.Equal(before.Value("grpc_server_msg_received_total", Put) + 1, after.Value("grpc_server_msg_received_total", Put));
        Assert.Equal(before.Value("grpc_server_msg_sent_total", Put) + 1, after.Value("grpc_server_msg_sent_total", Put));
        Assert.Equal(before.Value("grpc_server_handled_total", "grpc_code=\"OK\"," + Put) + 1, after.Value("grpc_server_handled_total", "grpc_code=\"OK\"," + Put));
        Assert.True(after.Value("etcd_disk_backend_commit_duration_seconds_count") > before.Value("etcd_disk_backend_commit_duration_seconds_count"),
            "applying the put was not timed in etcd_disk_backend_commit_duration_seconds");
        Assert.True(after.Value("etcd_server_proposals_applied_total") > before.Value("etcd_server_proposals_applied_total"));

        // A stream (Watch, bidirectional): started once, each message in and out counted as it passes.
        const string Watch = "grpc_method=\"Watch\",grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\"";
        using (var call = cluster.Watch(0).Watch())
        {
            await call.RequestStream.WriteAsync(new Bulwark.Api.Etcdserverpb.WatchRequest
            {
                CreateRequest = new Bulwark.Api.Etcdserverpb.WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("metrics/k") },
            });
            Assert.True((await WatchCalls.NextAsync(call)).Created);
            var streaming = Exposition.Parse(cluster.Observability(0).ScrapeMetrics());
            Assert.Equal(1, streaming.Value("grpc_server_started_total", Watch));
            Assert.Equal(1, streaming.Value("grpc_server_msg_received_total", Watch));
            Assert.True(streaming.Value("grpc_server_msg_sent_total", Watch) >= 1, "the created response was not counted as sent");
        }
    }

    [Fact]
    public async Task Watch_and_lease_metrics_count_watchers_grants_renewals_revocations_and_expiries()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var metrics = cluster.Observability(0);
        var lease = cluster.Lease(0);
        var start = Exposition.Parse(metrics.ScrapeMetrics());
        Assert.Equal(0, start.Value("etcd_debugging_mvcc_watcher_total"));
        Assert.Equal(0, start.Value("etcd_debugging_lease_granted_total"));

        using (var call = cluster.Watch(0).Watch())
        {
            await call.RequestStream.WriteAsync(new Bulwark.Api.Etcdserverpb.WatchRequest
            {
                CreateRequest = new Bulwark.Api.Etcdserverpb.WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("metrics/w") },
            });
            Assert.True((await WatchCalls.NextAsync(call)).Created);
            var watching = Exposition.Parse(metrics.ScrapeMetrics());
            Assert.Equal(1, watching.Value("etcd_debugging_mvcc_watcher_total"));
            Assert.Equal(0, watching.Value("etcd_debugging_mvcc_slow_watcher_total"));
        }

        // A lease granted, kept alive twice and revoked; another left to expire (the smallest TTL the node allows).
        var kept = await lease.LeaseGrantAsync(new Bulwark.Api.Etcdserverpb.LeaseGrantRequest { TTL = 60 });
        using (var keepAlive = lease.LeaseKeepAlive())
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (int i = 0; i < 2; i++)
            {
                await keepAlive.RequestStream.WriteAsync(new Bulwark.Api.Etcdserverpb.LeaseKeepAliveRequest { ID = kept.ID });
                Assert.True(await keepAlive.ResponseStream.MoveNext(deadline.Token));
                Assert.Equal(60, keepAlive.ResponseStream.Current.TTL);
            }

            await keepAlive.RequestStream.CompleteAsync();
        }

        await lease.LeaseRevokeAsync(new Bulwark.Api.Etcdserverpb.LeaseRevokeRequest { ID = kept.ID });
        await lease.LeaseGrantAsync(new Bulwark.Api.Etcdserverpb.LeaseGrantRequest { TTL = 1 });

        var after = start;
        await LocalCluster.EventuallyAsync(() =>
        {
            after = Exposition.Parse(metrics.ScrapeMetrics());
            return after.Value("etcd_server_lease_expired_total") >= 1 && after.Value("etcd_debugging_lease_revoked_total") >= 2
                && after.Value("etcd_debugging_mvcc_watcher_total") == 0;
        }, "the short lease expired, the kept one was revoked and the closed stream's watcher was gone");

        Assert.Equal(0, after.Value("etcd_debugging_mvcc_watcher_total")); // the stream closed: its watcher is gone
        Assert.Equal(2, after.Value("etcd_debugging_lease_granted_total"));
        Assert.Equal(2, after.Value("etcd_debugging_lease_renewed_total"));
        Assert.Equal(1, after.Value("etcd_server_lease_expired_total"));
        Assert.Equal(2, after.Value("etcd_debugging_lease_revoked_total")); // one by the client, one by expiry
    }

    [Fact]
    public async Task Nodes_in_one_process_keep_their_own_metrics()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bulwark-registry-" + Guid.NewGuid().ToString("N")[..12]);
        ClusterMember[] members = [new(1, "n1", ["http://127.0.0.1:1"], []), new(2, "n2", ["http://127.0.0.1:2"], [])];
        try
        {
            var one = new NodeObservability(1, members, Path.Combine(dir, "1"), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), NullLoggerFactory.Instance);
            var two = new NodeObservability(2, members, Path.Combine(dir, "2"), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), NullLoggerFactory.Instance);
            await using (one.ConfigureAwait(false))
            await using (two.ConfigureAwait(false))
            {
                one.Persisted(TimeSpan.FromMilliseconds(3), synced: true);
                one.ProposalFailed();
                var first = Exposition.Parse(one.ScrapeMetrics());
                var second = Exposition.Parse(two.ScrapeMetrics());
                Assert.Equal(1, first.Value("etcd_disk_wal_fsync_duration_seconds_count"));
                Assert.Equal(1, first.Value("etcd_server_proposals_failed_total"));
                Assert.Equal(0, second.Value("etcd_disk_wal_fsync_duration_seconds_count"));
                Assert.Equal(0, second.Value("etcd_server_proposals_failed_total"));
                // Each node's peers, at zero from the start.
                Assert.Equal(0, first.Value("etcd_network_peer_round_trip_time_seconds_count", "To=\"2\""));
                Assert.Equal(0, second.Value("etcd_network_peer_round_trip_time_seconds_count", "To=\"1\""));
                Assert.Null(first.Value("etcd_network_peer_round_trip_time_seconds_count", "To=\"1\""));
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>
    /// The failover a sampler cannot see: the observability's clock never advances (its sampling timer never fires, and
    /// no peer ever looks suspect), so only the scrapes sample; the leader is stopped and a new one elected between two
    /// scrapes. The old sampler saw leader A, then leader B, never the leaderless gap, and counted nothing (as with the
    /// 26 ms failover that went uncounted); the loop reports every change of its known leader, so it is counted.
    /// </summary>
    [Fact]
    public async Task A_failover_between_two_samples_is_counted_on_every_surviving_member()
    {
        var time = new FakeTimeProvider();
        await using var cluster = new LocalCluster(3, adjust: o => o with
        {
            Observer = new NodeObservability(o.NodeId, o.InitialCluster, o.DataDir, o.HeartbeatInterval, o.ElectionTimeout, NullLoggerFactory.Instance, time),
        });
        NodeObservability Observed(int i) => (NodeObservability)cluster.Options[i].Observer!;
        try
        {
            for (var i = 0; i < cluster.Size; i++)
            {
                Observed(i).Attach(cluster.Start(i));
            }

            var leader = await cluster.WaitForLeaderAsync();
            var survivors = Enumerable.Range(0, cluster.Size).Where(i => i != leader).ToList();
            var before = survivors.ToDictionary(i => i, i => Exposition.Parse(Observed(i).ScrapeMetrics()).Value("bulwark_failover_duration_seconds_count"));

            await cluster.StopAsync(leader);
            await cluster.WaitForLeaderAsync(notThis: leader);

            foreach (var i in survivors)
            {
                var after = Exposition.Parse(Observed(i).ScrapeMetrics());
                Assert.True(after.Value("bulwark_failover_duration_seconds_count") >= before[i] + 1,
                    $"{cluster.Members[i].Name}: failover not counted (count {before[i]} before the leader stopped, {after.Value("bulwark_failover_duration_seconds_count")} after)");
                Assert.True(after.Value("etcd_server_leader_changes_seen_total") >= 2, $"{cluster.Members[i].Name}: the new leader was not counted as a leader change");
            }
        }
        finally
        {
            for (var i = 0; i < cluster.Size; i++)
            {
                await cluster.StopAsync(i);
                await Observed(i).DisposeAsync();
            }
        }
    }

    /// <summary>Counters etcd itself names without the _total suffix; Bulwark keeps etcd's names.</summary>
    private static readonly string[] EtcdNamesWithoutTotal = ["etcd_network_snapshot_send_success", "etcd_network_snapshot_send_failures"];

    /// <summary>etcd's gauges whose names end in _total (kept: dashboards query them by these names).</summary>
    private static readonly string[] EtcdGaugesWithTotal = ["etcd_debugging_mvcc_watcher_total", "etcd_debugging_mvcc_slow_watcher_total"];

    /// <summary>(name, type) of every row of the metrics table in docs/operations.md.</summary>
    private static List<(string Name, string Type)> DocumentedMetrics()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "operations.md"));
        return [.. MetricRow().Matches(docs).Select(m => (m.Groups["name"].Value, m.Groups["type"].Value))];
    }

    [GeneratedRegex(@"^\| `(?<name>[a-z_]+)(\{[^`]*\})?` \| (?<type>counter|gauge|histogram) \|", RegexOptions.Multiline)]
    private static partial Regex MetricRow();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Bulwark.slnx above {AppContext.BaseDirectory}");
    }
}
