using System.Diagnostics;
using Bulwark.Bench.Load;

namespace Bulwark.Bench.Compare;

/// <summary>Runs the standard workloads against one cluster, sampling the cluster's CPU around each measured phase.</summary>
public sealed class LoadSuite(BenchSettings settings, TextWriter log)
{
    /// <param name="specs">The workloads to run; <see cref="WorkloadSpec.Standard"/> when null.</param>
    public async Task<IReadOnlyList<WorkloadMeasurement>> RunAsync(ClusterUnderTest cluster, IReadOnlyList<WorkloadSpec>? specs = null)
    {
        var results = new List<WorkloadMeasurement>();
        var preloaded = false;
        await WarmUpAsync(cluster).ConfigureAwait(false);
        foreach (var spec in specs ?? WorkloadSpec.Standard)
        {
            // Every call goes to the leader: the same path for both systems (no forwarding from a follower).
            var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
            var options = new LoadOptions
            {
                Endpoints = [cluster.ClientUrls[leader]],
                TrustedCa = cluster.TrustedCa,
                ClientCertificate = cluster.ClientCertificate,
                Clients = spec.Clients,
                Connections = spec.Connections,
                Workload = spec.Workload,
                Consistency = spec.Consistency,
                ReadPercent = 50,
                KeySize = 16,
                ValueSize = 256,
                KeySpace = settings.KeySpace,
                KeyPrefix = "bench/",
                CallTimeout = TimeSpan.FromSeconds(10),
            };
            using var runner = new LoadRunner(options);
            await runner.ConnectAsync().ConfigureAwait(false);
            if (spec.Workload != Workload.Put && !preloaded)
            {
                await runner.PreloadAsync().ConfigureAwait(false);
                preloaded = true;
            }

            await runner.RunPhaseAsync(settings.Warmup, null).ConfigureAwait(false);
            var loadAverage = ProcStat.LoadAverage();
            var pids = cluster.Pids;
            var self = Process.GetCurrentProcess();
            self.Refresh();
            var generatorBefore = self.TotalProcessorTime;
            var before = ProcStat.CpuSeconds(pids);
            var result = await runner.RunPhaseAsync(settings.Duration, null).ConfigureAwait(false);
            var after = ProcStat.CpuSeconds(pids);
            self.Refresh();
            var measurement = new WorkloadMeasurement(cluster.System, spec, result, after - before, (self.TotalProcessorTime - generatorBefore).TotalSeconds, loadAverage);
            results.Add(measurement);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System + (cluster.Tls is null ? "" : "+tls"),-12} {spec.Label,-44} {result.OpsPerSecond,8:0} ops/s  p50 {result.LatencyMs.P50,7:0.00} ms  p99 {result.LatencyMs.P99,7:0.00} ms  cpu {measurement.CpuSecondsPer1000Ops,6:0.000} s/1k ops  errors {result.Errors}  (load avg {loadAverage:0.0})"));
        }

        return results;
    }

    /// <summary>A fresh process is not yet at steady state (Bulwark's JIT tiers up for many seconds); load it unmeasured first.</summary>
    private async Task WarmUpAsync(ClusterUnderTest cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        using var runner = new LoadRunner(new LoadOptions
        {
            Endpoints = [cluster.ClientUrls[leader]],
            TrustedCa = cluster.TrustedCa,
            ClientCertificate = cluster.ClientCertificate,
            Clients = 64,
            Connections = 4,
            Workload = Workload.Mix,
            KeySpace = settings.KeySpace,
            KeyPrefix = "warm/",
            CallTimeout = TimeSpan.FromSeconds(10),
        });
        await runner.ConnectAsync().ConfigureAwait(false);
        var result = await runner.RunPhaseAsync(settings.ClusterWarmup, null).ConfigureAwait(false);
        log.WriteLine(FormattableString.Invariant($"  {cluster.System,-8} warm-up {settings.ClusterWarmup.TotalSeconds:0} s: {result.OpsPerSecond:0} ops/s, {result.Errors} errors"));
    }
}
