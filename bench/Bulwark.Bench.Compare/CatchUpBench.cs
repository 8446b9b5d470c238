using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Grpc.Core;

namespace Bulwark.Bench.Compare;

/// <summary>
/// One system's catch-up of a new member with N keys. Seconds count from the new member's process start: its log
/// saying it received the snapshot, then installed it; its applied index reaching the leader's committed index as of
/// the `member add` (Maintenance.Status); `member promote` succeeding (tried every 100 ms from the start). The
/// yardstick is <see cref="LoopbackCopy"/> of the snapshot's bytes (or, when no snapshot was sent, the leader's
/// store size).
/// </summary>
public sealed record CatchUpResult(
    string System,
    int Keys,
    long SnapshotBytes,
    bool SnapshotSent,
    double FirstLogSeconds,
    double? ReceivedSeconds,
    double? InstalledSeconds,
    double CaughtUpSeconds,
    double PromotedSeconds,
    double CopySeconds,
    int SnapshotsReceived)
{
    /// <summary>Catch-up (applied index reached the target) over the plain loopback copy of the same bytes; the goal is at most 2.</summary>
    public double Ratio => CaughtUpSeconds / CopySeconds;

    public double PromoteRatio => PromotedSeconds / CopySeconds;
}

public sealed partial class CatchUpBench(BenchSettings settings, TextWriter log)
{
    /// <param name="workDir">Where the new member's data and the copy's files go (deleted after).</param>
    /// <param name="logDir">Where the new member's timestamped log is kept (with the report).</param>
    public async Task<CatchUpResult> RunAsync(ClusterUnderTest cluster, string workDir, string logDir)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var loading = Stopwatch.StartNew();
        await KeyLoader.LoadAsync(cluster.Kv(leader), settings.CatchUpKeys).ConfigureAwait(false);
        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} loaded {settings.CatchUpKeys} keys in {loading.Elapsed.TotalSeconds:0} s"));
        leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);

        var ports = LoopbackPorts.Take(3);
        var peerUrl = $"http://127.0.0.1:{ports[1]}";
        var clusterClient = new Cluster.ClusterClient(cluster.Channel(leader));
        var added = await AddLearnerAsync(clusterClient, peerUrl, cluster.System).ConfigureAwait(false);
        var status = await cluster.TryStatusAsync(leader).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{cluster.System}: the leader did not answer Status after member add");
        var target = status.RaftIndex;

        var name = "n4";
        var dataDir = Path.Combine(workDir, $"{cluster.System}-{name}");
        var info = cluster.JoinerStartInfo(name, ports[0], ports[1], ports[2], dataDir, $"{cluster.FoundingCluster},{name}={peerUrl}");
        Directory.CreateDirectory(dataDir);
        info.WorkingDirectory = dataDir;
        var logFile = Path.Combine(logDir, $"catchup-{cluster.System}-{name}.log");
        var events = new JoinerLog(cluster.System, logFile);
        var joiner = new NodeProcesses([name], [$"http://127.0.0.1:{ports[0]}"], LoadRunner.CreateChannel);
        try
        {
            var clock = Stopwatch.StartNew();
            joiner.Start(0, info, (_, line) => events.Add(clock.Elapsed, line));
            var promote = PromoteAsync(clusterClient, added.Member.ID, clock, joiner);
            var caughtUp = await WaitAppliedAsync(joiner, target, clock, cluster.System, logFile).ConfigureAwait(false);
            var promoted = await promote.ConfigureAwait(false);

            // A short look past the finish line: a member that caught up should need no second snapshot.
            await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            var sent = events.SnapshotBytes is not null;
            var bytes = events.SnapshotBytes ?? status.DbSize;
            var copy = await LoopbackCopy.MeasureAsync(workDir, bytes).ConfigureAwait(false);
            var result = new CatchUpResult(cluster.System, settings.CatchUpKeys, bytes, sent,
                events.FirstLine?.TotalSeconds ?? double.NaN, events.Received?.TotalSeconds, events.Installed?.TotalSeconds,
                caughtUp.TotalSeconds, promoted.TotalSeconds, copy.TotalSeconds, events.SnapshotsReceived);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System,-8} target index {target}; snapshot {(sent ? "" : "not sent, store ")}{bytes / 1e6:0.0} MB; first log line {result.FirstLogSeconds:0.00} s, received {Seconds(result.ReceivedSeconds)}, installed {Seconds(result.InstalledSeconds)}, caught up {result.CaughtUpSeconds:0.00} s, promoted {result.PromotedSeconds:0.00} s; loopback copy {result.CopySeconds:0.00} s; ratio {result.Ratio:0.0}x; snapshots received {result.SnapshotsReceived} (by 5 s after)"));
            return result;
        }
        finally
        {
            await joiner.DisposeAsync().ConfigureAwait(false);
            for (var i = 0; i < cluster.Size; i++)
            {
                // The founding members' logs (the leader's snapshot sends) go with the report too.
                File.Copy(cluster.LogFile(i), Path.Combine(logDir, $"catchup-{cluster.System}-{cluster.Names[i]}.log"), overwrite: true);
            }

            events.Dispose();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temp dir is harmless
            }
        }
    }

    private static string Seconds(double? s) => s is { } v ? v.ToString("0.00 s", CultureInfo.InvariantCulture) : "never";

    /// <summary>
    /// `member add --learner`, retried while the leader answers "unhealthy cluster": etcd's strict reconfiguration
    /// check wants every member connected for 5 s first, which a leader busy with a 1M-key load may not have seen.
    /// </summary>
    private async Task<MemberAddResponse> AddLearnerAsync(Cluster.ClusterClient client, string peerUrl, string system)
    {
        var deadline = DateTime.UtcNow + settings.Patience;
        while (true)
        {
            try
            {
                return await client.MemberAddAsync(new MemberAddRequest { PeerURLs = { peerUrl }, IsLearner = true },
                    deadline: DateTime.UtcNow.AddSeconds(30)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                log.WriteLine($"  {system,-8} member add: {e.Status.Detail}; trying again");
            }

            await Task.Delay(500).ConfigureAwait(false);
        }
    }

    private async Task<TimeSpan> WaitAppliedAsync(NodeProcesses joiner, ulong target, Stopwatch clock, string system, string logFile)
    {
        var deadline = clock.Elapsed + settings.CatchUpPatience;
        while (true)
        {
            if (joiner.HasExited(0))
            {
                throw new InvalidOperationException($"{system}: the new member exited with code {joiner.ExitCode(0)}; see {logFile}");
            }

            if ((await joiner.TryStatusAsync(0).ConfigureAwait(false))?.RaftAppliedIndex >= target)
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"{system}: the new member did not apply index {target} within {settings.CatchUpPatience.TotalSeconds} s; see {logFile}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>`member promote` every 100 ms until the leader accepts it (it refuses a learner not yet in sync).</summary>
    private async Task<TimeSpan> PromoteAsync(Cluster.ClusterClient client, ulong id, Stopwatch clock, NodeProcesses joiner)
    {
        var deadline = clock.Elapsed + settings.CatchUpPatience;
        while (true)
        {
            try
            {
                await client.MemberPromoteAsync(new MemberPromoteRequest { ID = id }, deadline: DateTime.UtcNow.AddSeconds(10)).ConfigureAwait(false);
                return clock.Elapsed;
            }
            catch (RpcException e) when (clock.Elapsed < deadline && !joiner.HasExited(0))
            {
                if (!e.Status.Detail.Contains("in sync with leader", StringComparison.Ordinal) && e.StatusCode != StatusCode.Unavailable && e.StatusCode != StatusCode.DeadlineExceeded)
                {
                    throw;
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>The new member's output, kept in a file, with the moments it said what the benchmark waits for.</summary>
    private sealed partial class JoinerLog(string system, string path) : IDisposable
    {
        private readonly StreamWriter file = new(path, append: false) { AutoFlush = true };
        private readonly object gate = new();

        public TimeSpan? FirstLine { get; private set; }

        public TimeSpan? Received { get; private set; }

        public TimeSpan? Installed { get; private set; }

        public long? SnapshotBytes { get; private set; }

        public int SnapshotsReceived { get; private set; }

        public void Add(TimeSpan at, string line)
        {
            lock (gate)
            {
                file.WriteLine(FormattableString.Invariant($"[{at.TotalSeconds,9:0.000}] {line}"));
                FirstLine ??= at;
                if (system == "bulwark")
                {
                    // Bulwark: "received snapshot at index I (B bytes) from peer P", then "snapshot installed at index I ...".
                    if (BulwarkReceived().Match(line) is { Success: true } m)
                    {
                        Received ??= at;
                        SnapshotsReceived++;
                        SnapshotBytes ??= long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    }
                    else if (line.Contains("snapshot installed at index", StringComparison.Ordinal))
                    {
                        Installed ??= at;
                    }
                }
                else
                {
                    if (line.Contains("received and saved database snapshot", StringComparison.Ordinal))
                    {
                        Received ??= at;
                        SnapshotsReceived++;
                    }

                    if (line.Contains("finished applying incoming snapshot", StringComparison.Ordinal))
                    {
                        Installed ??= at;
                    }

                    if (line.Contains("snapshot", StringComparison.Ordinal) && EtcdSnapshotSize().Match(line) is { Success: true } size)
                    {
                        // etcd 3.4: "successfully received and saved database snapshot [index: I, from: P, raft message size: 7.6 kB, db size: 297 MB, took: 3s]".
                        SnapshotBytes ??= EtcdBytes(size.Groups[1].Value, size.Groups[2].Value);
                    }
                }
            }
        }

        public void Dispose() => file.Dispose();

        private static long EtcdBytes(string number, string unit) => (long)(double.Parse(number, CultureInfo.InvariantCulture) * unit switch
        {
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            _ => 1,
        });

        [GeneratedRegex(@"received snapshot at index \d+ \((\d+) bytes\)")]
        private static partial Regex BulwarkReceived();

        [GeneratedRegex(@"db.size[:=]?\s*""?([0-9.]+)\s*(B|kB|MB|GB)")]
        private static partial Regex EtcdSnapshotSize();
    }
}
