using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;

namespace Bulwark.Bench.Compare;

/// <summary>A store of N keys on each member of a 3-node cluster: what it costs at rest, to back up, and to restart.</summary>
public sealed record HugeResult(
    string System,
    int Keys,
    double LoadSeconds,
    int LoadRetries,
    IReadOnlyList<long> RssBytes,
    IReadOnlyList<long> DataDirBytes,
    double SnapshotSaveSeconds,
    long SnapshotFileBytes,
    double DefragmentSeconds,
    double? InternalSnapshotSeconds,
    double RestartToServingSeconds,
    double RestartToCaughtUpSeconds,
    long RestartedRssBytes,
    double LoadAverage)
{
    public double KeysPerSecond => Keys / LoadSeconds;
}

/// <summary>
/// --huge: N keys (16-byte keys, 256-byte values) loaded in transactions of <see cref="BatchSize"/> puts, within both
/// servers' default --max-txn-ops of 128; then each member's RSS and data dir size; the time of `etcdctl snapshot save`
/// against the leader (a full backup, the same tool for both); the time of Maintenance.Defragment on the leader, which
/// on Bulwark writes a store snapshot at the applied index and compacts the log behind it (the internal snapshot's own
/// duration comes from bulwark_snapshot_duration_seconds) and on etcd rewrites its bbolt file; and one follower's
/// restart after SIGKILL: from process start to answering Status, and to having applied what the leader had.
/// </summary>
public sealed class HugeBench(BenchSettings settings, TextWriter log, string etcdctl)
{
    public const int BatchSize = 128;

    public async Task<HugeResult> RunAsync(ClusterUnderTest cluster, string workDir, int keys)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var loading = Stopwatch.StartNew();
        var retries = new KeyLoader.Retries();
        await KeyLoader.LoadAsync(cluster.Kv(leader), keys, batchSize: BatchSize, retries: retries).ConfigureAwait(false);
        await cluster.WaitForCatchUpAsync(TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        var loadSeconds = loading.Elapsed.TotalSeconds;
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} loaded {keys} keys in {loadSeconds:0} s ({keys / loadSeconds:0} keys/s; {retries.Count} Txns sent again after Unavailable); load average {ProcStat.LoadAverage():0.0}"));

        // Let the load's garbage settle so the numbers are the members at rest with their stores.
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var rss = cluster.Pids.Select(ProcStat.ResidentBytes).ToArray();
        var dirs = Enumerable.Range(0, cluster.Size).Select(i => DirectoryBytes(cluster.DataDir(i))).ToArray();
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} RSS per member {string.Join(" / ", rss.Select(b => (b / 1048576.0).ToString("0", CultureInfo.InvariantCulture)))} MiB, data dirs {string.Join(" / ", dirs.Select(b => (b / 1048576.0).ToString("0", CultureInfo.InvariantCulture)))} MiB"));

        var file = Path.Combine(workDir, $"{cluster.System}-huge.db");
        var save = await BackupBench.RunAsync(etcdctl, ["--endpoints", cluster.ClientUrls[leader]["http://".Length..], "--command-timeout=3600s", "snapshot", "save", file],
            ("ETCDCTL_API", "3")).ConfigureAwait(false);
        var fileBytes = new FileInfo(file).Length;
        File.Delete(file);
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} snapshot save {save.TotalSeconds:0.0} s ({fileBytes / 1e6:0} MB)"));

        var snapshotSumBefore = await SnapshotSecondsSumAsync(cluster, leader).ConfigureAwait(false);
        var defrag = Stopwatch.StartNew();
        await new Maintenance.MaintenanceClient(cluster.Channel(leader)).DefragmentAsync(new DefragmentRequest(), deadline: DateTime.UtcNow.AddHours(1)).ResponseAsync.ConfigureAwait(false);
        var defragSeconds = defrag.Elapsed.TotalSeconds;
        var snapshotSumAfter = await SnapshotSecondsSumAsync(cluster, leader).ConfigureAwait(false);
        double? internalSnapshot = snapshotSumBefore is { } b && snapshotSumAfter is { } a ? a - b : null;
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} defragment of the leader {defragSeconds:0.0} s; internal snapshot {internalSnapshot?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-"} s"));

        // Restart of a follower: SIGKILL, then the same command line on the same data dir. The leader is asked again:
        // a Defragment of a big Bulwark leader (its compacting GC) was seen to cost it leadership.
        leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var follower = Enumerable.Range(0, cluster.Size).First(i => i != leader);
        await cluster.KillAsync(follower).ConfigureAwait(false);
        var target = (await cluster.TryStatusAsync(leader).ConfigureAwait(false))?.RaftAppliedIndex ?? 0;
        var restart = Stopwatch.StartNew();
        cluster.Start(follower);
        double? serving = null;
        var patience = TimeSpan.FromMinutes(15);
        while (true)
        {
            var status = await cluster.TryStatusAsync(follower).ConfigureAwait(false);
            if (status is not null)
            {
                serving ??= restart.Elapsed.TotalSeconds;
                if (status.RaftAppliedIndex >= target)
                {
                    break;
                }
            }

            if (!cluster.IsRunning(follower) || restart.Elapsed > patience)
            {
                throw new InvalidOperationException($"{cluster.System}: the restarted member did not catch up within {patience.TotalMinutes} min; see {cluster.LogFile(follower)}");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        var caughtUp = restart.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var restartedRss = ProcStat.ResidentBytes(cluster.PidOf(follower));
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} restart of a follower: serving after {serving:0.00} s, caught up after {caughtUp:0.00} s, RSS {restartedRss / 1048576.0:0} MiB"));
        return new HugeResult(cluster.System, keys, loadSeconds, retries.Count, rss, dirs, save.TotalSeconds, fileBytes, defragSeconds, internalSnapshot,
            serving ?? caughtUp, caughtUp, restartedRss, ProcStat.LoadAverage());
    }

    private static long DirectoryBytes(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    /// <summary>bulwark_snapshot_duration_seconds_sum of a Bulwark member (null for etcd, which has no such metric).</summary>
    private static async Task<double?> SnapshotSecondsSumAsync(ClusterUnderTest cluster, int member)
    {
        if (cluster.System != "bulwark")
        {
            return null;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{cluster.MetricsPorts[member]}/metrics")).ConfigureAwait(false);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("bulwark_snapshot_duration_seconds_sum", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
