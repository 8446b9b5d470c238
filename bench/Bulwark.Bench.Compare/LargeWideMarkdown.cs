using System.Globalization;
using System.Text;

namespace Bulwark.Bench.Compare;

/// <summary>The report's issue-17 sections: --large and --wide side by side, --huge, and --watch-memory.</summary>
public static class LargeWideMarkdown
{
    public static void Render(StringBuilder md, BenchReport r)
    {
        if (r.LargeWide.Count > 0)
        {
            md.AppendLine("### Large values and wide ranges");
            md.AppendLine();
            md.AppendLine("| operation | clients | etcd ops/s | Bulwark ops/s | ratio | etcd p50 ms | Bulwark p50 ms | ratio | etcd p99 ms | Bulwark p99 ms | ratio | load avg etcd / Bulwark | errors etcd / Bulwark |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            // One row per operation and client count either system measured (a failed mode leaves only the other's).
            foreach (var (operation, clients) in r.LargeWide.Select(x => (x.Operation, x.Phase.Clients)).Distinct())
            {
                var ep = r.LargeWide.FirstOrDefault(x => x.System == "etcd" && x.Operation == operation && x.Phase.Clients == clients)?.Phase;
                var bp = r.LargeWide.FirstOrDefault(x => x.System == "bulwark" && x.Operation == operation && x.Phase.Clients == clients)?.Phase;
                Line(md, $"| {operation} | {clients} | {N(ep?.OpsPerSecond, "0.0")} | {N(bp?.OpsPerSecond, "0.0")} | {Ratio(bp?.OpsPerSecond, ep?.OpsPerSecond)} | {N(ep?.P50Ms)} | {N(bp?.P50Ms)} | {Ratio(bp?.P50Ms, ep?.P50Ms)} | {N(ep?.P99Ms)} | {N(bp?.P99Ms)} | {Ratio(bp?.P99Ms, ep?.P99Ms)} | {N(ep?.LoadAverage, "0.0")} / {N(bp?.LoadAverage, "0.0")} | {Errors(ep)} / {Errors(bp)} |");
            }

            foreach (var x in r.LargeWide.Where(x => x.Phase.Errors.Count > 0))
            {
                Line(md, $"- {x.System}, {x.Operation}, {x.Phase.Clients} clients: {string.Join("; ", x.Phase.Errors.Select(e => $"{e.Value} x {e.Key}"))}");
            }

            md.AppendLine();
            Line(md, $"Every call to the leader, one connection per client; {r.Settings.Warmup.TotalSeconds:0.#} s warm-up then {r.Settings.Duration.TotalSeconds:0.#} s measured per row. 1 MiB values are random bytes; each client overwrites 8 keys of its own and history is compacted after each put phase. The wide prefix holds {LargeWideBench.WideKeys:N0} keys of 16 B with 256 B values; every read returns (or counts) all of them. Load average: the 1-minute average at the end of the row's phase.");
            md.AppendLine();
        }

        if (r.Huge.Count > 0)
        {
            md.AppendLine("### Huge store");
            md.AppendLine();
            md.AppendLine("| system | keys | load s | keys/s | Txns retried | RSS per member MiB | data dir per member MiB | snapshot save s | file MB | defragment s | internal snapshot s | restart to serving s | to caught up s | RSS after restart MiB | load avg |");
            md.AppendLine("|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var x in r.Huge)
            {
                Line(md, $"| {x.System} | {x.Keys} | {x.LoadSeconds:0} | {x.KeysPerSecond:0} | {x.LoadRetries} | {MiB(x.RssBytes)} | {MiB(x.DataDirBytes)} | {x.SnapshotSaveSeconds:0.0} | {x.SnapshotFileBytes / 1e6:0} | {x.DefragmentSeconds:0.0} | {N(x.InternalSnapshotSeconds, "0.0")} | {x.RestartToServingSeconds:0.00} | {x.RestartToCaughtUpSeconds:0.00} | {x.RestartedRssBytes / 1048576.0:0} | {x.LoadAverage:0.0} |");
            }

            md.AppendLine();
            Line(md, $"Keys loaded in Txns of {HugeBench.BatchSize} puts (both servers' default max-txn-ops) from 16 writers (a Txn refused as Unavailable during an election is sent again and counted); 16-byte keys, 256-byte values. Data dir: the sum of the files' lengths (preallocated WAL space included). Snapshot save: `etcdctl snapshot save` against the leader, both systems. Defragment: Maintenance.Defragment on the leader (Bulwark: a store snapshot at the applied index, the log compacted behind it and a compacting GC; etcd: its bbolt file rewritten); internal snapshot: the growth of bulwark_snapshot_duration_seconds_sum over that call. Restart: a follower SIGKILLed, then started on the same data; serving = answering Maintenance.Status, caught up = applied index at the leader's.");
            md.AppendLine();
        }

        if (r.WatchMemory.Count > 0)
        {
            md.AppendLine("### Memory with watches and leases");
            md.AppendLine();
            md.AppendLine("| system | watches / streams | leases x keys | RSS per member idle MiB | with watches MiB | with leases too MiB | B per watch (cluster) | B per lease (member) | open watches s | grant leases s | leases failed |");
            md.AppendLine("|---|---|---|---|---|---|---:|---:|---:|---:|---:|");
            foreach (var x in r.WatchMemory)
            {
                Line(md, $"| {x.System} | {x.Watches} / {x.Streams} | {x.Leases} x {x.KeysPerLease} | {MiB(x.BaselineRss)} | {MiB(x.WatchesRss)} | {MiB(x.LeasesRss)} | {x.BytesPerWatch:0} | {x.BytesPerLease:0} | {x.WatchesOpenSeconds:0.0} | {x.LeasesGrantSeconds:0.0} | {x.LeasesFailed} |");
            }

            md.AppendLine();
            md.AppendLine("| system | stage | put p50 ms | put p99 ms | get p50 ms | get p99 ms | load avg |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var x in r.WatchMemory)
            {
                foreach (var (stage, sample) in new[] { ("idle", x.Idle), ("with watches", x.WithWatches), ("with watches and leases", x.WithLeases) })
                {
                    Line(md, $"| {x.System} | {stage} | {sample.Put.P50Ms:0.00} | {sample.Put.P99Ms:0.00} | {sample.Get.P50Ms:0.00} | {sample.Get.P99Ms:0.00} | {sample.Get.LoadAverage:0.0} |");
                }
            }

            md.AppendLine();
            md.AppendLine("Watches: one key each, streams on their own connections round-robin over the three members. Leases: TTL 1 h (none expires, no keep-alives), granted through the leader, each with its keys put in one Txn. RSS read after 5 s of rest at each stage. Samples: one client, back-to-back puts of 256 B then linearizable gets of that key on the leader.");
            md.AppendLine();
        }
    }

    private static string MiB(IEnumerable<long> bytes) =>
        string.Join(" / ", bytes.Select(b => (b / 1048576.0).ToString("0", CultureInfo.InvariantCulture)));

    private static string N(double? v, string format = "0.00") => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Ratio(double? bulwark, double? etcd) =>
        etcd is { } e && e > 0 && bulwark is { } b && double.IsFinite(b) ? (b / e).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Errors(PhaseResult? p) => p is null ? "-" : p.Errors.Values.Sum().ToString(CultureInfo.InvariantCulture);

    private static void Line(StringBuilder md, FormattableString s) => md.AppendLine(FormattableString.Invariant(s));
}
