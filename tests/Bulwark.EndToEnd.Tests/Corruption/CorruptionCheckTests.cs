using System.Globalization;
using System.Net;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Cli;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Observability;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Corruption;

/// <summary>
/// The periodic corruption check (--corrupt-check-time) on a real 3-process cluster: one member's store damaged through
/// the test-only hook raises the replicated CORRUPT alarm (etcdctl alarm list), every member refuses writes with etcd's
/// error, /health, metrics, the journal and `bulwark status` show it, and `etcdctl alarm disarm` after the member is
/// repaired clears it. And the negative: a healthy cluster under writes is checked again and again without an alarm.
/// </summary>
public sealed class CorruptionCheckTests
{
    private const string Victim = "corrupt/victim";

    [Fact]
    public async Task A_corrupted_member_raises_CORRUPT_every_member_refuses_writes_and_disarm_clears_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(3,
            ["--corrupt-check-time", "300ms", "--test-only-corrupt-key", $"n3={Victim}"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var endpoints = Endpoints(cluster);
        var corruptId = (await StatusOf(cluster, 2)).Header.MemberId;

        await RunOkAsync(endpoints, "put", "corrupt/other", "1");
        await RunOkAsync(endpoints, "put", Victim, "healthy"); // n3 damages it once applied: the next check may catch it

        // The alarm names n3, whichever member leads (n3 leading is the "leader is the odd one out" case).
        var expected = $"memberID:{corruptId.ToString(CultureInfo.InvariantCulture)} alarm:CORRUPT";
        var list = await EventuallyAsync(async () =>
        {
            var output = await RunOkAsync(endpoints, "alarm", "list");
            return output.Contains(expected, StringComparison.Ordinal) ? output : null;
        }, cluster, $"etcdctl alarm list never printed '{expected}'");
        Assert.Equal([expected], Lines(list));

        // Replicated: every member lists it, refuses writes with etcd's error, and reports it on /health and /metrics.
        for (var i = 0; i < cluster.Size; i++)
        {
            var one = new Uri(cluster.ClientUrls[i]).Authority;
            await EventuallyAsync(async () => (await RunOkAsync(one, "alarm", "list")).Contains(expected, StringComparison.Ordinal) ? "" : null,
                cluster, $"{cluster.Names[i]} does not list the alarm");
            var put = await Assert.ThrowsAsync<RpcException>(async () =>
                await cluster.Kv(i).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("corrupt/refused"), Value = ByteString.CopyFromUtf8("x") }));
            Assert.Equal(StatusCode.DataLoss, put.StatusCode);
            Assert.Equal("etcdserver: corrupt cluster", put.Status.Detail);
            var refused = await RunAsync(one, null, "put", "corrupt/refused", "x");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("etcdserver: corrupt cluster", refused.Stderr, StringComparison.Ordinal);

            var health = await http.GetAsync(cluster.MetricsUrls[i] + "/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal("{\"health\":\"false\",\"reason\":\"ALARM CORRUPT\"}", await health.Content.ReadAsStringAsync());
            await EventuallyAsync(async () => (await http.GetStringAsync(cluster.MetricsUrls[i] + "/metrics"))
                .Contains("bulwark_alarm_active{alarm=\"CORRUPT\"} 1", StringComparison.Ordinal) ? "" : null, cluster, $"{cluster.Names[i]}'s metric");
        }

        // The other writes etcd's corrupt applier refuses.
        var kv = cluster.Kv(0);
        await AssertCorruptAsync(() => kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(Victim) }).ResponseAsync);
        await AssertCorruptAsync(() => kv.TxnAsync(new TxnRequest
        {
            Success = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("corrupt/txn"), Value = ByteString.CopyFromUtf8("x") } } },
        }).ResponseAsync);
        await AssertCorruptAsync(() => kv.CompactAsync(new CompactionRequest { Revision = 2 }).ResponseAsync);
        await AssertCorruptAsync(() => cluster.Lease(0).LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }).ResponseAsync);
        // Reads go on: the data is served, an operator can compare it.
        Assert.Equal("1", (await RunOkAsync(endpoints, "get", "corrupt/other", "--print-value-only")).Trim());

        // `bulwark status` lists the alarm against the member it names, and exits 1.
        var (code, output, _) = await BulwarkProcess.RunAsync(null, ["status", "--endpoints", cluster.Endpoints]);
        var statusText = System.Text.Encoding.UTF8.GetString(output);
        Assert.Equal(1, code);
        Assert.Contains(statusText.Split('\n'), line => line.Contains("CORRUPT", StringComparison.Ordinal) && line.Contains("n3", StringComparison.Ordinal));

        // The status page of any member shows the alarm against n3 (from n3's vital signs).
        await EventuallyAsync(async () => (await http.GetStringAsync(cluster.MetricsUrls[0] + "/")).Contains("n3: CORRUPT", StringComparison.Ordinal) ? "" : null,
            cluster, "n1's status page never showed 'n3: CORRUPT'");

        // The journal: the leader that found it recorded corruption_detected naming n3; every member journalled the alarm.
        var detected = Enumerable.Range(0, cluster.Size).SelectMany(i => Journal(cluster, i)).Where(e => e.Kind == JournalEvents.CorruptionDetected).ToList();
        Assert.NotEmpty(detected);
        Assert.All(detected, e => Assert.Equal("n3", e.Node));
        for (var i = 0; i < cluster.Size; i++)
        {
            Assert.Contains(Journal(cluster, i), e => e.Kind == JournalEvents.AlarmRaised && e.Reason == "CORRUPT" && e.Node == "n3");
        }

        // Repair n3 (the damage was in its memory only: a restart without the hook rebuilds its store from its log),
        // then disarm: the alarm is gone everywhere and stays gone while the check keeps running.
        await cluster.KillAsync(2);
        cluster.Start(2, ["--corrupt-check-time", "300ms"]);
        await cluster.WaitForLeaderAsync();
        var healthyHash = await EventuallyAsync(async () =>
        {
            var hashes = Lines(await RunOkAsync(endpoints, "endpoint", "hashkv", "--cluster")).Select(l => l.Split(", ")[1]).Distinct().ToList();
            return hashes.Count == 1 ? hashes[0] : null;
        }, cluster, "the restarted n3 never hashed like the others");
        Assert.NotEmpty(healthyHash);

        Assert.Equal([expected], Lines(await RunOkAsync(endpoints, "alarm", "disarm")));
        for (var i = 0; i < cluster.Size; i++)
        {
            var one = new Uri(cluster.ClientUrls[i]).Authority;
            await EventuallyAsync(async () => (await RunOkAsync(one, "alarm", "list")).Length == 0 ? "" : null, cluster, $"{cluster.Names[i]} still lists an alarm");
            Assert.Equal("OK", (await RunOkAsync(one, "put", $"corrupt/after-{i}", "ok")).Trim());
            await EventuallyAsync(async () => (await http.GetAsync(cluster.MetricsUrls[i] + "/health")).StatusCode == HttpStatusCode.OK ? "" : null,
                cluster, $"{cluster.Names[i]}'s /health stays unhealthy");
            Assert.Contains(Journal(cluster, i), e => e.Kind == JournalEvents.AlarmCleared && e.Reason == "CORRUPT");
        }

        // Several more checks pass on the repaired cluster without raising it again.
        var leader = await cluster.WaitForLeaderAsync();
        var okBefore = await Counter(http, cluster, leader, "ok");
        await EventuallyAsync(async () => await Counter(http, cluster, leader, "ok") >= okBefore + 3 ? "" : null, cluster, "the check stopped running");
        Assert.Empty(Lines(await RunOkAsync(endpoints, "alarm", "list")));
    }

    [Fact]
    public async Task A_healthy_cluster_under_writes_is_checked_repeatedly_and_raises_no_alarm()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, ["--corrupt-check-time", "200ms"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var leader = await cluster.WaitForLeaderAsync();

        // Writes from every member while the leader checks: the members' revisions move under the check.
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writers = Enumerable.Range(0, cluster.Size).Select(i => Task.Run(async () =>
        {
            var kv = cluster.Kv(i);
            while (!stop.IsCancellationRequested)
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"healthy/{i}/{writes % 50}"), Value = ByteString.CopyFromUtf8(writes.ToString(CultureInfo.InvariantCulture)) });
                Interlocked.Increment(ref writes);
            }
        })).ToList();

        try
        {
            await EventuallyAsync(async () => await Counter(http, cluster, leader, "ok") >= 5 && Volatile.Read(ref writes) >= 100 ? "" : null,
                cluster, "fewer than 5 passing checks under writes");
            await cluster.Kv(leader).CompactAsync(new CompactionRequest { Revision = 50 });
            var okAfterCompaction = await Counter(http, cluster, leader, "ok");
            await EventuallyAsync(async () => await Counter(http, cluster, leader, "ok") >= okAfterCompaction + 3 ? "" : null,
                cluster, "no passing check after a compaction");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        for (var i = 0; i < cluster.Size; i++)
        {
            var metrics = await http.GetStringAsync(cluster.MetricsUrls[i] + "/metrics");
            Assert.Contains("bulwark_alarm_active{alarm=\"CORRUPT\"} 0", metrics, StringComparison.Ordinal);
            Assert.Contains("bulwark_corruption_checks_total{result=\"mismatch\"} 0", metrics, StringComparison.Ordinal);
            Assert.DoesNotContain(Journal(cluster, i), e => e.Kind is JournalEvents.CorruptionDetected or JournalEvents.AlarmRaised);
        }

        Assert.Empty(Lines(await RunOkAsync(Endpoints(cluster), "alarm", "list")));
    }

    private static async Task AssertCorruptAsync<T>(Func<Task<T>> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => await call());
        Assert.Equal(StatusCode.DataLoss, e.StatusCode);
        Assert.Equal("etcdserver: corrupt cluster", e.Status.Detail);
    }

    private static string Endpoints(ProcessCluster cluster) => string.Join(",", cluster.ClientUrls.Select(url => new Uri(url).Authority));

    private static async Task<StatusResponse> StatusOf(ProcessCluster cluster, int i) =>
        await cluster.TryStatusAsync(i) ?? throw new InvalidOperationException($"{cluster.Names[i]} does not answer Status");

    private static async Task<double> Counter(HttpClient http, ProcessCluster cluster, int i, string result)
    {
        var series = $"bulwark_corruption_checks_total{{result=\"{result}\"}} ";
        var line = (await http.GetStringAsync(cluster.MetricsUrls[i] + "/metrics")).Split('\n').FirstOrDefault(l => l.StartsWith(series, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[series.Length..], CultureInfo.InvariantCulture);
    }

    private static List<JournalEvent> Journal(ProcessCluster cluster, int i)
    {
        var path = System.IO.Path.Combine(cluster.DataDir(i), "journal", EventJournal.FileName);
        var events = new List<JournalEvent>();
        foreach (var line in File.ReadAllLines(path).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            events.Add(new JournalEvent(DateTimeOffset.Parse(root.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture), root.GetProperty("event").GetString()!,
                root.TryGetProperty("node", out var node) ? node.GetString() : null,
                root.TryGetProperty("reason", out var reason) ? reason.GetString() : null));
        }

        return events;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Polls <paramref name="probe"/> until it returns non-null, within the cluster's patience; a member busy
    /// restarting, a call that timed out or an answer not yet as expected means "ask again".</summary>
    private static Task<string> EventuallyAsync(Func<Task<string?>> probe, ProcessCluster cluster, string what) =>
        Eventually.ValueAsync(probe, what, ProcessCluster.Patience,
            transient: e => e is Xunit.Sdk.XunitException or RpcException or HttpRequestException,
            diagnostics: cluster.Logs);
}
