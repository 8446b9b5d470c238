using System.Diagnostics;
using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>
/// One system's backup and restore with N keys: `etcdctl snapshot save` against the leader (time, MB/s, the member's
/// RSS before and its peak while saving, sampled every 10 ms), then the restore of one member from that file
/// (`etcdctl snapshot restore` for etcd, `bulwark snapshot restore` for Bulwark).
/// </summary>
public sealed record BackupResult(string System, int Keys, long FileBytes, double SaveSeconds, double RestoreSeconds, long RssBeforeBytes, long RssPeakBytes)
{
    public double SaveMBps => FileBytes / 1e6 / SaveSeconds;

    /// <summary>How much the member's RSS grew while it streamed the backup.</summary>
    public long RssGrowthBytes => RssPeakBytes - RssBeforeBytes;
}

public sealed class BackupBench(BenchSettings settings, TextWriter log, string etcdctl, string dotnet, string bulwarkDll)
{
    public async Task<BackupResult> RunAsync(ClusterUnderTest cluster, string workDir)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var loading = Stopwatch.StartNew();
        await KeyLoader.LoadAsync(cluster.Kv(leader), settings.BackupKeys).ConfigureAwait(false);
        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} loaded {settings.BackupKeys} keys in {loading.Elapsed.TotalSeconds:0} s"));

        // Let the load's garbage settle so "before" is the member at rest with its store.
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var pid = cluster.PidOf(leader);
        var before = ProcStat.ResidentBytes(pid);
        var file = Path.Combine(workDir, $"{cluster.System}-backup.db");
        using var stopSampling = new CancellationTokenSource();
        var peak = before;
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ProcStat.ResidentBytes(pid));
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }
        });
        var save = await RunAsync(etcdctl, ["--endpoints", cluster.ClientUrls[leader]["http://".Length..], "--command-timeout=600s", "snapshot", "save", file],
            ("ETCDCTL_API", "3")).ConfigureAwait(false);
        await stopSampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);

        var restoreDir = Path.Combine(workDir, $"{cluster.System}-restored");
        var peer = "http://127.0.0.1:2380";
        string[] restoreArgs = ["snapshot", "restore", file, "--name", "r1", "--initial-cluster", $"r1={peer}", "--initial-advertise-peer-urls", peer, "--data-dir", restoreDir];
        var restore = cluster.System == "etcd"
            ? await RunAsync(etcdctl, restoreArgs, ("ETCDCTL_API", "3")).ConfigureAwait(false)
            : await RunAsync(dotnet, [bulwarkDll, .. restoreArgs]).ConfigureAwait(false);

        var result = new BackupResult(cluster.System, settings.BackupKeys, new FileInfo(file).Length, save.TotalSeconds, restore.TotalSeconds, before, peak);
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} save {result.SaveSeconds:0.00} s ({result.FileBytes / 1e6:0.0} MB, {result.SaveMBps:0} MB/s), restore {result.RestoreSeconds:0.00} s; leader RSS {before / 1048576.0:0} MiB before, peak {peak / 1048576.0:0} MiB while saving"));
        File.Delete(file);
        Directory.Delete(restoreDir, recursive: true);
        return result;
    }

    /// <summary>Runs a tool to completion and returns its wall time; a non-zero exit fails the benchmark with its output.</summary>
    internal static async Task<TimeSpan> RunAsync(string program, IEnumerable<string> args, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var stdout = await output.ConfigureAwait(false);
        var stderr = await error.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(program)} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}: {stdout} {stderr}"));
        }

        return elapsed;
    }
}
