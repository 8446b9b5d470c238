using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V3Lockpb;
using Google.Protobuf;
using Grpc.Core;
using LockClient = Bulwark.Api.V3Lockpb.Lock.LockClient;

namespace Bulwark.Bench.Compare;

/// <summary>Lock hand-over: acquisitions per second of one lock name among many contenders, and how long each Lock call waited.</summary>
public sealed record LockResult(string System, int Contenders, long Acquisitions, double Seconds, double AcquisitionsPerSecond, double AcquireP50Ms, double AcquireP99Ms);

/// <summary>
/// Issue 14's lock benchmark: <c>contenders</c> clients, each with its own lease, loop Lock then Unlock on one lock name
/// through the v3lockpb.Lock service of the leader (etcd serves the same service). A warm-up phase first (unmeasured,
/// so Bulwark's JIT tiering settles), then a measured phase of the settings' duration.
/// </summary>
public sealed class LockBench(BenchSettings settings, TextWriter log)
{
    public async Task<LockResult> RunAsync(ClusterUnderTest cluster, int contenders)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var channel = cluster.Channel(leader);
        var locks = new LockClient(channel);
        var leaseClient = new Lease.LeaseClient(channel);
        var leases = new long[contenders];
        for (int i = 0; i < contenders; i++)
        {
            leases[i] = (await leaseClient.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false)).ID;
        }

        var name = ByteString.CopyFromUtf8("bench-lock");
        await PhaseAsync(locks, name, leases, settings.ClusterWarmup).ConfigureAwait(false);
        var (waits, elapsed) = await PhaseAsync(locks, name, leases, settings.Duration).ConfigureAwait(false);
        foreach (var lease in leases)
        {
            await leaseClient.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
        }

        Array.Sort(waits);
        var result = new LockResult(cluster.System, contenders, waits.Length, elapsed.TotalSeconds, waits.Length / elapsed.TotalSeconds,
            Percentile(waits, 0.50), Percentile(waits, 0.99));
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} lock: {contenders} contenders, {result.AcquisitionsPerSecond:0.0} acquisitions/s, acquire p50 {result.AcquireP50Ms:0.0} ms p99 {result.AcquireP99Ms:0.0} ms"));
        return result;
    }

    /// <summary>Every contender loops Lock → Unlock until <paramref name="duration"/> has passed; returns each acquisition's wait in ms.</summary>
    private static async Task<(double[] WaitsMs, TimeSpan Elapsed)> PhaseAsync(LockClient locks, ByteString name, long[] leases, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var perContender = await Task.WhenAll(leases.Select(lease => Task.Run(async () =>
        {
            var waits = new List<double>();
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var held = await locks.LockAsync(new LockRequest { Name = name, Lease = lease }, deadline: DateTime.UtcNow.AddMinutes(2)).ResponseAsync.ConfigureAwait(false);
                waits.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                await locks.UnlockAsync(new UnlockRequest { Key = held.Key }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
            }

            return waits;
        }))).ConfigureAwait(false);
        return (perContender.SelectMany(w => w).ToArray(), clock.Elapsed);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
