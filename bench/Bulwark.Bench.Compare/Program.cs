using System.Diagnostics;
using Bulwark.Bench.Compare;
using Bulwark.Bench.Load;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(CompareArguments.Usage);
    return 0;
}

CompareArguments a;
try
{
    a = CompareArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"bulwark-compare: {e.Message}");
    Console.Error.WriteLine(CompareArguments.Usage);
    return 2;
}

var log = Console.Out;
var s = a.Settings;
var runRoot = Path.Combine(a.DataRoot, "bulwark-vs-etcd-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(runRoot);
Directory.CreateDirectory(a.OutDir);

// Other builds may rewrite the CLI's output folder during the run; the nodes run from a private copy.
var bulwarkBin = Path.Combine(runRoot, "bulwark-bin");
CopyDirectory(Path.GetDirectoryName(a.BulwarkDll)!, bulwarkBin);
var bulwarkDll = Path.Combine(bulwarkBin, Path.GetFileName(a.BulwarkDll));

var report = new BenchReport
{
    Started = DateTimeOffset.UtcNow,
    Command = "bench/run-vs-etcd.sh " + string.Join(' ', args.SkipWhile(x => x != "--etcd").Skip(2)),
    Machine = MachineInfo.Collect(EtcdVersion(a.Etcd), a.DataRoot),
    Settings = s,
    BulwarkEnvironment = a.BulwarkEnvironment,
};
log.WriteLine($"bulwark-compare: data under {runRoot}, results to {a.OutDir}; load average {ProcStat.LoadAverage():0.0}");

try
{
    log.WriteLine("physical floor");
    report.Floor = await PhysicalFloor.MeasureAsync(runRoot);
    log.WriteLine(FormattableString.Invariant($"  fdatasync {report.Floor.FdatasyncMedianMs:0.000} ms (p99 {report.Floor.FdatasyncP99Ms:0.000}), loopback RTT {report.Floor.LoopbackRttMedianMs:0.000} ms"));

    if (a.Load)
    {
        log.WriteLine("throughput, latency, CPU");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            report.Load.AddRange(await new LoadSuite(s, log).RunAsync(cluster));
        }
    }

    if (a.Tls)
    {
        log.WriteLine("throughput and latency of puts with mutual TLS");
        var certificates = new Bulwark.Server.Security.LocalClusterCertificates(Path.Combine(runRoot, "tls")).Generate();
        var puts = WorkloadSpec.Standard.Where(w => w.Workload == Workload.Put).ToList();
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = system == "etcd"
                ? (ClusterUnderTest)new EtcdCluster(a.Etcd, runRoot, null, tls: certificates)
                : new BulwarkCluster(a.Dotnet, bulwarkDll, runRoot, null, a.BulwarkEnvironment, tls: certificates);
            await cluster.StartAsync(s.Patience);
            report.TlsLoad.AddRange(await new LoadSuite(s, log).RunAsync(cluster, puts));
        }
    }

    if (a.Failover)
    {
        log.WriteLine("failover");
        // The equal setting is etcd's default (100 ms heartbeat, 1 s election), so etcd's default run serves for both.
        foreach (var (system, timing, label) in new (string, RaftTiming?, string)[]
        {
            ("etcd", null, "defaults"),
            ("bulwark", null, "defaults"),
            ("bulwark", RaftTiming.EtcdDefaults, "equal (100 ms / 1 s)"),
        })
        {
            await using var cluster = NewCluster(system, timing);
            await cluster.StartAsync(s.Patience);
            report.Failover.AddRange(await new FailoverBench(s, log).RunAsync(cluster, label));
        }

        report.Notes.Add("The \"equal\" settings are etcd's defaults (100 ms heartbeat, 1000 ms election timeout), so etcd's default rows are also its equal-settings rows; Bulwark's defaults are 50 ms / 500 ms.");
    }

    if (a.Coordination)
    {
        log.WriteLine("watches and leases");
        var bench = new CoordinationBench(s, log);
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            // A fresh cluster for each, so a watch backlog still draining cannot count as lease CPU.
            await using (var cluster = NewCluster(system, null))
            {
                await cluster.StartAsync(s.Patience);
                report.Watch.Add(await bench.RunWatchAsync(cluster, watchers: 1000, streams: 10, putsPerSecond: 1000, idleWatchers: a.Quick ? 10_000 : 100_000));
            }

            await using (var cluster = NewCluster(system, null))
            {
                await cluster.StartAsync(s.Patience);
                report.Leases.Add(await bench.RunLeasesAsync(cluster, leases: a.Quick ? 1_000 : 10_000, ttlSeconds: 30));
            }
        }
    }

    if (a.Lock)
    {
        log.WriteLine("lock hand-over");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            report.Locks.Add(await new LockBench(s, log).RunAsync(cluster, contenders: 16));
        }
    }

    if (a.Memory)
    {
        log.WriteLine("memory");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            report.Memory.Add(await new MemoryBench(s, log).RunAsync(cluster));
        }
    }

    if (a.Large || a.Wide)
    {
        log.WriteLine("large values and wide ranges");
        report.Notes.Add("Large values: both servers at their default request limit, 1,572,864 bytes (etcd's --max-request-bytes 1.5 MiB; Bulwark's max-request-bytes, the same default); a 1 MiB value with its key and framing fits under it.");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            var bench = new LargeWideBench(s, log);
            foreach (var (wanted, mode, run) in new (bool, string, Func<ClusterUnderTest, Task<List<LargeWideRow>>>)[]
            {
                (a.Large, "large values", bench.RunLargeAsync),
                (a.Wide, "wide ranges", bench.RunWideAsync),
            })
            {
                if (!wanted)
                {
                    continue;
                }

                await using var cluster = NewCluster(system, null);
                await cluster.StartAsync(s.Patience);
                try
                {
                    report.LargeWide.AddRange(await run(cluster));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or Grpc.Core.RpcException)
                {
                    // A wrong answer or a failed call is a result to report, not a reason to lose the other system's.
                    log.WriteLine($"  {system,-8} {mode} failed: {e.Message}");
                    report.Notes.Add($"{mode}, {system}: failed: {e.Message}");
                }
                finally
                {
                    // The members' logs go with the report: an election under large values is read there.
                    for (var i = 0; i < cluster.Size; i++)
                    {
                        File.Copy(cluster.LogFile(i), Path.Combine(a.OutDir, $"{mode.Replace(' ', '-')}-{system}-{cluster.Names[i]}.log"), overwrite: true);
                    }
                }
            }
        }
    }

    if (a.WatchMemory)
    {
        log.WriteLine("memory with watches and leases");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            try
            {
                report.WatchMemory.Add(await new WatchLeaseMemoryBench(s, log).RunAsync(cluster, watches: a.Quick ? 10_000 : 100_000, streams: a.Quick ? 10 : 100,
                    leases: a.Quick ? 1_000 : 10_000, keysPerLease: 3));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or Grpc.Core.RpcException)
            {
                log.WriteLine($"  {system,-8} watches and leases failed: {e.Message}");
                report.Notes.Add($"Memory with watches and leases, {system}: failed: {e.Message}");
            }
        }
    }

    if (a.Huge)
    {
        log.WriteLine($"huge store ({s.HugeKeys} keys), one system at a time");
        var etcdctl = Path.Combine(Path.GetDirectoryName(a.Etcd)!, "etcdctl");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            try
            {
                report.Huge.Add(await new HugeBench(s, log, etcdctl).RunAsync(cluster, runRoot, s.HugeKeys));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or Grpc.Core.RpcException)
            {
                // One system failing (out of memory, a deadline) is a result to report, not a reason to lose the other's.
                log.WriteLine($"  {system,-8} huge store failed: {e.Message}");
                report.Notes.Add($"Huge store, {system}: failed: {e.Message}");
            }
            finally
            {
                for (var i = 0; i < cluster.Size; i++)
                {
                    File.Copy(cluster.LogFile(i), Path.Combine(a.OutDir, $"huge-{system}-{cluster.Names[i]}.log"), overwrite: true);
                }
            }
        }
    }

    if (a.Backup)
    {
        log.WriteLine("backup and restore");
        var etcdctl = Path.Combine(Path.GetDirectoryName(a.Etcd)!, "etcdctl");
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using var cluster = NewCluster(system, null);
            await cluster.StartAsync(s.Patience);
            report.Backup.Add(await new BackupBench(s, log, etcdctl, a.Dotnet, bulwarkDll).RunAsync(cluster, runRoot));
        }
    }

    if (a.Rejoin)
    {
        log.WriteLine("rejoin of a killed follower");
        foreach (var (system, timing, label) in new (string, RaftTiming?, string)[]
        {
            ("etcd", null, "defaults"),
            ("bulwark", null, "defaults"),
            ("bulwark", RaftTiming.EtcdDefaults, "equal (100 ms / 1 s)"),
        })
        {
            await using var cluster = NewCluster(system, timing);
            await cluster.StartAsync(s.Patience);
            report.Rejoin.Add(await new RejoinBench(s, log).RunAsync(cluster, label));
        }
    }

    if (a.CatchUp)
    {
        log.WriteLine("catch-up of a new member");
        string[] snapshotCount = ["--snapshot-count", s.CatchUpSnapshotCount.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        foreach (var system in new[] { "etcd", "bulwark" })
        {
            await using ClusterUnderTest cluster = system == "etcd"
                ? new EtcdCluster(a.Etcd, runRoot, null, snapshotCount)
                : new BulwarkCluster(a.Dotnet, bulwarkDll, runRoot, null, a.BulwarkEnvironment, snapshotCount);
            await cluster.StartAsync(s.Patience);
            try
            {
                report.CatchUp.Add(await new CatchUpBench(s, log).RunAsync(cluster, runRoot, a.OutDir));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or Grpc.Core.RpcException)
            {
                // One system failing to catch up is a result to report, not a reason to lose the other's.
                log.WriteLine($"  {system,-8} catch-up failed: {e.Message}");
                report.Notes.Add($"Catch-up, {system}: failed: {e.Message}");
            }
        }
    }
}
finally
{
    report.Finished = DateTimeOffset.UtcNow;
    await File.WriteAllTextAsync(Path.Combine(a.OutDir, "results.json"), ResultFormat.ToJson(report));
    var markdown = ReportMarkdown.Render(report);
    await File.WriteAllTextAsync(Path.Combine(a.OutDir, "report.md"), markdown);
    log.WriteLine();
    log.WriteLine(markdown);
    log.WriteLine($"load average at end {ProcStat.LoadAverage():0.0}; written {Path.Combine(a.OutDir, "report.md")} and results.json");
    try
    {
        Directory.Delete(runRoot, recursive: true);
    }
    catch (IOException)
    {
        // leftover temp files are harmless
    }
}

return 0;

ClusterUnderTest NewCluster(string system, RaftTiming? timing) => system == "etcd"
    ? new EtcdCluster(a.Etcd, runRoot, timing)
    : new BulwarkCluster(a.Dotnet, bulwarkDll, runRoot, timing, a.BulwarkEnvironment);

static string EtcdVersion(string etcd)
{
    using var p = Process.Start(new ProcessStartInfo(etcd, "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
    var first = p.StandardOutput.ReadLine() ?? "";
    p.WaitForExit();
    return first.Replace("etcd Version:", "", StringComparison.Ordinal).Trim();
}

static void CopyDirectory(string from, string to)
{
    foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
    {
        Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
    }

    Directory.CreateDirectory(to);
    foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
    {
        File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}
