using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace Bulwark.Bench.Compare;

/// <summary>
/// Latency and throughput of one closed-loop phase: N clients, each calling back to back. Ops and the percentiles
/// count successful calls; <see cref="Errors"/> the failed ones by gRPC status and message.
/// </summary>
public sealed record PhaseResult(int Clients, long Ops, double Seconds, double P50Ms, double P99Ms, double LoadAverage, IReadOnlyDictionary<string, int> Errors)
{
    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;
}

/// <summary>
/// Runs <paramref name="clients"/> callers of one operation back to back: an unmeasured warm-up, then the measured
/// phase; every call's latency is kept (these phases are short and slow, so a sorted array is enough). A call that
/// fails with a gRPC error (e.g. "leader changed" during an election) is counted, not fatal; the client goes on.
/// </summary>
public static class ClosedLoop
{
    /// <param name="call">One operation of client c (its n-th); a failure fails the phase.</param>
    public static async Task<PhaseResult> RunAsync(int clients, TimeSpan warmup, TimeSpan duration, Func<int, long, Task> call)
    {
        await PhaseAsync(clients, warmup, call, null, new ConcurrentDictionary<string, int>()).ConfigureAwait(false);
        var latencies = new List<double>[clients];
        for (var c = 0; c < clients; c++)
        {
            latencies[c] = [];
        }

        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        await PhaseAsync(clients, duration, call, latencies, errors).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new PhaseResult(clients, all.Length, seconds, Percentile(all, 0.50), Percentile(all, 0.99), ProcStat.LoadAverage(), new SortedDictionary<string, int>(errors, StringComparer.Ordinal));
    }

    private static Task PhaseAsync(int clients, TimeSpan duration, Func<int, long, Task> call, List<double>[]? latencies, ConcurrentDictionary<string, int> errors)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (long n = 0; Stopwatch.GetTimestamp() < end; n++)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await call(c, n).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    errors.AddOrUpdate($"{e.StatusCode}: {e.Status.Detail}", 1, (_, k) => k + 1);
                    continue;
                }

                latencies?[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })));
    }

    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
