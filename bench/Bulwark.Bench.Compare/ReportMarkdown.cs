using System.Globalization;
using System.Text;

namespace Bulwark.Bench.Compare;

/// <summary>The run as Markdown tables with Bulwark/etcd ratios, plus the issue's targets marked met or missed.</summary>
public static class ReportMarkdown
{
    public static string Render(BenchReport r)
    {
        var md = new StringBuilder();
        var m = r.Machine;
        Line(md, $"Run {r.Started:yyyy-MM-dd HH:mm} to {r.Finished:HH:mm} UTC: `{r.Command}`");
        md.AppendLine();
        Line(md, $"Machine: {m.Cpu}, {m.Cores} cores, {m.MemoryMiB} MiB RAM, Linux {m.Kernel}, .NET {m.Dotnet}, etcd {m.Etcd}; data dirs {m.DataDisk}; 1-minute load average at start {m.LoadAverageAtStart:0.0}.");
        Line(md, $"Each fresh cluster first gets {r.Settings.ClusterWarmup.TotalSeconds:0.#} s of unmeasured load (64 clients, 50/50 mix). Each load phase: {r.Settings.Warmup.TotalSeconds:0.#} s warm-up, then {r.Settings.Duration.TotalSeconds:0.#} s measured; key space {r.Settings.KeySpace}, 16-byte keys, 256-byte values; every call to the leader.");
        if (r.BulwarkEnvironment.Count > 0)
        {
            Line(md, $"Bulwark nodes ran with: {string.Join(", ", r.BulwarkEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`"))}.");
        }

        md.AppendLine();

        if (r.Floor is { } f)
        {
            md.AppendLine("### Physical floor");
            md.AppendLine();
            md.AppendLine("| what | median ms | p99 ms |");
            md.AppendLine("|---|---:|---:|");
            Line(md, $"| write 512 B + fdatasync (preallocated file, data disk) | {f.FdatasyncMedianMs:0.000} | {f.FdatasyncP99Ms:0.000} |");
            Line(md, $"| TCP loopback round trip (1 byte) | {f.LoopbackRttMedianMs:0.000} | {f.LoopbackRttP99Ms:0.000} |");
            Line(md, $"| floor of one replicated put (fdatasync + 2 round trips) | {f.PutFloorMs:0.000} | |");
            md.AppendLine();
        }

        if (r.Load.Count > 0)
        {
            md.AppendLine("### Throughput, latency and CPU (ratio = Bulwark / etcd)");
            md.AppendLine();
            md.AppendLine("| workload | clients | etcd ops/s | Bulwark ops/s | ratio | etcd p50 ms | Bulwark p50 ms | ratio | etcd p99 ms | Bulwark p99 ms | ratio | etcd p99.9 ms | Bulwark p99.9 ms | etcd CPU s/1k ops | Bulwark CPU s/1k ops | ratio | errors etcd/Bulwark |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (e, b) in Pairs(r))
            {
                var spec = (e ?? b)!.Spec;
                Line(md, $"| {spec.Name} | {spec.Clients} | {N(e?.Result.OpsPerSecond, "0")} | {N(b?.Result.OpsPerSecond, "0")} | {Ratio(b?.Result.OpsPerSecond, e?.Result.OpsPerSecond)} | {N(e?.Result.LatencyMs.P50)} | {N(b?.Result.LatencyMs.P50)} | {Ratio(b?.Result.LatencyMs.P50, e?.Result.LatencyMs.P50)} | {N(e?.Result.LatencyMs.P99)} | {N(b?.Result.LatencyMs.P99)} | {Ratio(b?.Result.LatencyMs.P99, e?.Result.LatencyMs.P99)} | {N(e?.Result.LatencyMs.P999)} | {N(b?.Result.LatencyMs.P999)} | {N(e?.CpuSecondsPer1000Ops, "0.000")} | {N(b?.CpuSecondsPer1000Ops, "0.000")} | {Ratio(b?.CpuSecondsPer1000Ops, e?.CpuSecondsPer1000Ops)} | {e?.Result.Errors.ToString(CultureInfo.InvariantCulture) ?? "-"}/{b?.Result.Errors.ToString(CultureInfo.InvariantCulture) ?? "-"} |");
            }

            md.AppendLine();
            Line(md, $"CPU is utime+stime of the three server processes from /proc/<pid>/stat around the measured phase. The load generator runs on the same 2 cores (its own CPU per workload is in the JSON).");
            md.AppendLine();
        }

        if (r.TlsLoad.Count > 0)
        {
            md.AppendLine("### Puts with mutual TLS on client and peer ports (ratio = Bulwark / etcd, same certificates)");
            md.AppendLine();
            md.AppendLine("| workload | clients | etcd TLS ops/s | Bulwark TLS ops/s | TLS ratio | plain ratio | etcd TLS p99 ms | Bulwark TLS p99 ms | TLS p99 ratio | plain p99 ratio |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var spec in r.TlsLoad.Select(x => x.Spec).Distinct())
            {
                var e = r.TlsLoad.FirstOrDefault(x => x.System == "etcd" && x.Spec == spec);
                var b = r.TlsLoad.FirstOrDefault(x => x.System == "bulwark" && x.Spec == spec);
                var pe = r.Load.FirstOrDefault(x => x.System == "etcd" && x.Spec == spec);
                var pb = r.Load.FirstOrDefault(x => x.System == "bulwark" && x.Spec == spec);
                Line(md, $"| {spec.Name} | {spec.Clients} | {N(e?.Result.OpsPerSecond, "0")} | {N(b?.Result.OpsPerSecond, "0")} | {Ratio(b?.Result.OpsPerSecond, e?.Result.OpsPerSecond)} | {Ratio(pb?.Result.OpsPerSecond, pe?.Result.OpsPerSecond)} | {N(e?.Result.LatencyMs.P99)} | {N(b?.Result.LatencyMs.P99)} | {Ratio(b?.Result.LatencyMs.P99, e?.Result.LatencyMs.P99)} | {Ratio(pb?.Result.LatencyMs.P99, pe?.Result.LatencyMs.P99)} |");
            }

            md.AppendLine();
        }

        if (r.Failover.Count > 0)
        {
            md.AppendLine("### Failover (kill -9 of the leader under writes)");
            md.AppendLine();
            md.AppendLine("| system | settings | writers | trials | median longest gap ms | worst gap ms | median kill to first ack ms | acknowledged writes lost |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var s in r.Failover)
            {
                Line(md, $"| {s.System} | {s.Timing} | {s.Writers} | {s.Trials.Count} | {s.MedianGapMs:0} | {s.WorstGapMs:0} | {s.MedianKillToFirstAckMs:0} | {s.Lost} |");
            }

            md.AppendLine();
            Line(md, $"Each trial: writers put unique keys back to back for {r.Settings.BeforeKill.TotalSeconds:0.#} s, the leader gets SIGKILL, writers go on until {r.Settings.AfterRecovery.TotalSeconds:0.#} s after the first acknowledged write sent after the kill. A call that fails or passes its {r.Settings.FailoverCallTimeout.TotalMilliseconds:0} ms deadline is retried on the next endpoint. Every acknowledged key is then read back (linearizable); the killed node is restarted and caught up before the next trial.");
            md.AppendLine();
        }

        if (r.Memory.Count > 0)
        {
            md.AppendLine("### Memory");
            md.AppendLine();
            md.AppendLine("| system | keys | RSS per node before MiB | loaded MiB | after compaction MiB | bytes per key loaded | after compaction |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var x in r.Memory)
            {
                Line(md, $"| {x.System} | {x.Keys} | {x.BaselineRss.Average() / (1 << 20):0.0} | {x.MeanLoadedMiB:0.0} | {x.MeanCompactedMiB:0.0} | {x.BytesPerKeyLoaded:0} | {x.BytesPerKeyCompacted:0} |");
            }

            md.AppendLine();
        }

        LargeWideMarkdown.Render(md, r);

        if (r.Backup.Count > 0)
        {
            md.AppendLine("### Backup and restore");
            md.AppendLine();
            md.AppendLine("| system | keys | file MB | save s | save MB/s | restore s | leader RSS before MiB | peak while saving MiB | growth MiB |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var x in r.Backup)
            {
                Line(md, $"| {x.System} | {x.Keys} | {x.FileBytes / 1e6:0.0} | {x.SaveSeconds:0.00} | {x.SaveMBps:0} | {x.RestoreSeconds:0.00} | {x.RssBeforeBytes / 1048576.0:0} | {x.RssPeakBytes / 1048576.0:0} | {x.RssGrowthBytes / 1048576.0:0} |");
            }

            var be = r.Backup.FirstOrDefault(x => x.System == "etcd");
            var bb = r.Backup.FirstOrDefault(x => x.System == "bulwark");
            if (be is not null && bb is not null)
            {
                Line(md, $"| bulwark / etcd | | {(double)bb.FileBytes / be.FileBytes:0.00}x | {bb.SaveSeconds / be.SaveSeconds:0.00}x | {bb.SaveMBps / be.SaveMBps:0.00}x | {bb.RestoreSeconds / be.RestoreSeconds:0.00}x | | | |");
            }

            md.AppendLine();
            md.AppendLine("Keys as for memory (16-byte keys, 256-byte values, transactions of 100 puts). Save: the wall time of `etcdctl snapshot save` against the leader of a 3-node cluster (the file written, synced and its hash checked). Restore: the wall time of one member's restore from that file, `etcdctl snapshot restore` for etcd and `bulwark snapshot restore` (a .NET process: its start-up is included) for Bulwark. RSS: the leader's VmRSS just before the save and its peak, sampled every 10 ms while the save ran.");
            md.AppendLine();
        }

        if (r.CatchUp.Count > 0)
        {
            md.AppendLine("### Catch-up of a new member");
            md.AppendLine();
            md.AppendLine("| system | keys | snapshot MB | process up s | snapshot received s | installed s | caught up s | promoted s | loopback copy s | caught up / copy | promoted / copy | snapshots received |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var x in r.CatchUp)
            {
                var size = x.SnapshotSent ? FormattableString.Invariant($"{x.SnapshotBytes / 1e6:0.0}") : FormattableString.Invariant($"none sent (store {x.SnapshotBytes / 1e6:0.0})");
                Line(md, $"| {x.System} | {x.Keys} | {size} | {x.FirstLogSeconds:0.00} | {Seconds(x.ReceivedSeconds)} | {Seconds(x.InstalledSeconds)} | {x.CaughtUpSeconds:0.00} | {x.PromotedSeconds:0.00} | {x.CopySeconds:0.00} | {x.Ratio:0.0}x | {x.PromoteRatio:0.0}x | {x.SnapshotsReceived} |");
            }

            md.AppendLine();
            md.AppendLine(FormattableString.Invariant($"Keys as for memory, loaded into a 3-node cluster started with --snapshot-count {r.Settings.CatchUpSnapshotCount} (both systems; so that a snapshot exists). Then `member add --learner` (Cluster.MemberAdd) at the leader, and a fourth process started with initial cluster state \"existing\". Seconds count from that process's start: its first log line; its log saying it received the snapshot and installed it; its Maintenance.Status applied index reaching the leader's committed index as of the add (\"caught up\", the goal's measure: at most 2x the copy); `member promote`, tried every 100 ms from the start, accepted. Snapshots received: how many the new member logged receiving, up to 5 s after both finish lines (1 is expected). Loopback copy: a file of the snapshot's size copied disk to disk over one loopback TCP connection, fsync at the end."));
            md.AppendLine();
        }

        if (r.Rejoin.Count > 0)
        {
            md.AppendLine("### Rejoin of a killed follower");
            md.AppendLine();
            md.AppendLine("| system | timing | trial | longest window while down ms | longest window while rejoining ms | at ms after restart | first linearizable read ms | caught up ms | ok calls | failed | too many requests | no leader |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var series in r.Rejoin)
            {
                foreach (var t in series.Trials)
                {
                    Line(md, $"| {series.System} | {series.Timing} | {t.Trial} | {t.WindowWhileDownMs:0} | {t.WindowWhileRejoiningMs:0} | {t.WindowRejoinAtMs:0} | {t.FirstReadMs:0} | {t.CaughtUpMs:0} | {t.Successes} | {t.Failures} | {t.TooManyRequests} | {t.NoLeader} |");
                }
            }

            md.AppendLine();
            md.AppendLine("8 clients (4 per member) on the two members that stay up, each doing put, linearizable get, CAS Txn on one of 5 keys in a loop; after 2 s a follower is killed with SIGKILL and restarted 3 s later. Windows: the longest stretch in which no client saw a successful call, from the kill to the restart (\"while down\") and from the restart until 3 s after the returning member applied the leader's index (\"while rejoining\"). First linearizable read: from the restart until a linearizable get on the returning member succeeded (it must see a write acknowledged just before the restart); caught up: until its applied index reached the leader's.");
            md.AppendLine();
        }

        if (r.Watch.Count > 0)
        {
            md.AppendLine("### Watches");
            md.AppendLine();
            md.AppendLine("| system | watchers / streams | puts/s | events delivered | delay p50 ms | delay p99 ms | server CPU µs per event | idle watchers | bytes per idle watcher |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var x in r.Watch)
            {
                Line(md, $"| {x.System} | {x.Watchers} / {x.Streams} | {x.PutsPerSecond:0} | {x.EventsDelivered} | {x.DelayP50Ms:0.00} | {x.DelayP99Ms:0.00} | {x.CpuMicrosPerEvent:0.00} | {x.IdleWatchers} | {x.BytesPerIdleWatcher:0} |");
            }

            md.AppendLine();
            md.AppendLine("Watchers sit on one prefix on a follower; puts of 64 B go to the leader at a fixed rate. Delay: from a put's acknowledgement to an event's receipt (1 event in 50 sampled). CPU: all three members. Idle watchers: distinct keys over 100 streams on one member, its RSS growth per watcher.");
            md.AppendLine();
        }

        if (r.Leases.Count > 0)
        {
            md.AppendLine("### Leases");
            md.AppendLine();
            md.AppendLine("| system | leases kept alive | keep-alives/s | server CPU µs per keep-alive | grant+revoke pairs/s |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var x in r.Leases)
            {
                Line(md, $"| {x.System} | {x.Leases} | {x.KeepAlivesPerSecond:0} | {x.CpuMicrosPerKeepAlive:0.0} | {x.GrantRevokePerSecond:0} |");
            }

            md.AppendLine();
        }

        if (r.Locks.Count > 0)
        {
            md.AppendLine("### Lock hand-over");
            md.AppendLine();
            md.AppendLine("| system | contenders | acquisitions | acquisitions/s | acquire p50 ms | acquire p99 ms |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var x in r.Locks)
            {
                Line(md, $"| {x.System} | {x.Contenders} | {x.Acquisitions} | {x.AcquisitionsPerSecond:0.0} | {x.AcquireP50Ms:0.0} | {x.AcquireP99Ms:0.0} |");
            }

            md.AppendLine();
            md.AppendLine("Each contender has its own lease and loops Lock -> Unlock on one lock name through the leader's v3lockpb.Lock service. Acquire: from sending Lock to its answer (queueing behind the other contenders included).");
            md.AppendLine();
        }

        md.AppendLine("### Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var (target, measured, met) in Targets(r))
        {
            Line(md, $"| {target} | {measured} | {(met is null ? "not measured" : met.Value ? "met" : "**missed**")} |");
        }

        foreach (var note in r.Notes)
        {
            md.AppendLine();
            md.AppendLine(note);
        }

        return md.ToString();
    }

    /// <summary>Issue 17's goals (ratios to etcd in the same run), then the failover goal of the earlier work.</summary>
    private static IEnumerable<(string Target, string Measured, bool? Met)> Targets(BenchReport r)
    {
        var puts = Pairs(r).Where(p => (p.Etcd ?? p.Bulwark)!.Spec.Name == "put").ToList();
        foreach (var (e, b) in puts)
        {
            var clients = (e ?? b)!.Spec.Clients;
            if (e is null || b is null)
            {
                yield return ($"put throughput ≥ 2× etcd, {clients} client(s)", "-", null);
                continue;
            }

            var tput = b.Result.OpsPerSecond / e.Result.OpsPerSecond;
            yield return ($"put throughput ≥ 2× etcd, {clients} client(s)", Inv($"{tput:0.00}×"), tput >= 2);
            var p99 = b.Result.LatencyMs.P99 / e.Result.LatencyMs.P99;
            var p999 = b.Result.LatencyMs.P999 / e.Result.LatencyMs.P999;
            yield return ($"put p99 and p99.9 ≤ 0.5× etcd's, {clients} client(s)",
                Inv($"p99 {p99:0.00}× ({b.Result.LatencyMs.P99:0.0} vs {e.Result.LatencyMs.P99:0.0} ms), p99.9 {p999:0.00}× ({b.Result.LatencyMs.P999:0.0} vs {e.Result.LatencyMs.P999:0.0} ms)"),
                p99 <= 0.5 && p999 <= 0.5);
        }

        var cpuPairs = puts.Where(p => p.Etcd is not null && p.Bulwark is not null).ToList();
        if (cpuPairs.Count > 0)
        {
            var ratios = cpuPairs.Select(p => p.Bulwark!.CpuSecondsPer1000Ops / p.Etcd!.CpuSecondsPer1000Ops).ToList();
            yield return ("CPU per committed put ≤ 0.5× etcd's at every client count", string.Join(", ", cpuPairs.Zip(ratios, (p, x) => Inv($"{x:0.00}× at {p.Etcd!.Spec.Clients}"))), ratios.All(x => x <= 0.5));
        }

        var eDefault = r.Failover.Where(s => s.System == "etcd" && s.Timing == "defaults").ToList();
        foreach (var b in r.Failover.Where(s => s.System == "bulwark" && s.Timing == "defaults"))
        {
            var e = eDefault.FirstOrDefault(x => x.Writers == b.Writers);
            if (e is not null)
            {
                var ratio = b.MedianGapMs / e.MedianGapMs;
                yield return ($"median failover gap ≤ 0.4× etcd's on defaults, none lost ({b.Writers} writer(s))", Inv($"{ratio:0.00}×, lost {b.Lost} (etcd lost {e.Lost})"), ratio <= 0.4 && b.Lost == 0);
            }
        }

        var single = r.Load.FirstOrDefault(x => x.System == "bulwark" && x.Spec.Name == "put" && x.Spec.Clients == 1);
        var singleEtcd = r.Load.FirstOrDefault(x => x.System == "etcd" && x.Spec.Name == "put" && x.Spec.Clients == 1);
        if (single is not null && singleEtcd is not null && r.Floor is { } floor)
        {
            var vsEtcd = single.Result.LatencyMs.P50 / singleEtcd.Result.LatencyMs.P50;
            var vsFloor = single.Result.LatencyMs.P50 / floor.PutFloorMs;
            yield return ("single-client put p50 ≤ 0.5× etcd's and ≤ 3× the physical floor",
                Inv($"p50 {single.Result.LatencyMs.P50:0.00} ms = {vsEtcd:0.00}× etcd's {singleEtcd.Result.LatencyMs.P50:0.00} ms, {vsFloor:0.00}× floor {floor.PutFloorMs:0.00} ms"),
                vsEtcd <= 0.5 && vsFloor <= 3);
        }

        var me = r.Memory.FirstOrDefault(x => x.System == "etcd");
        var mb = r.Memory.FirstOrDefault(x => x.System == "bulwark");
        if (me is not null && mb is not null)
        {
            var x = mb.LoadedRss.Average() / me.LoadedRss.Average();
            yield return ($"RSS per node ≤ 0.5× etcd's with {mb.Keys} keys", Inv($"{x:0.00}× ({mb.MeanLoadedMiB:0} vs {me.MeanLoadedMiB:0} MiB)"), x <= 0.5);
        }
        else
        {
            yield return ("RSS per node ≤ 0.5× etcd's with 1M keys", "run with --memory", null);
        }
    }

    private static List<(WorkloadMeasurement? Etcd, WorkloadMeasurement? Bulwark)> Pairs(BenchReport r) =>
        WorkloadSpec.Standard.Select(spec => (
            r.Load.FirstOrDefault(x => x.System == "etcd" && x.Spec == spec),
            r.Load.FirstOrDefault(x => x.System == "bulwark" && x.Spec == spec)))
            .Where(p => p.Item1 is not null || p.Item2 is not null)
            .ToList();

    private static string N(double? v, string format = "0.00") => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Ratio(double? bulwark, double? etcd) =>
        bulwark is { } b && etcd is { } e && e > 0 && double.IsFinite(b) ? (b / e).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Inv(FormattableString s) => FormattableString.Invariant(s);

    private static string Seconds(double? s) => s is { } v ? v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static void Line(StringBuilder md, FormattableString s) => md.AppendLine(FormattableString.Invariant(s));
}
