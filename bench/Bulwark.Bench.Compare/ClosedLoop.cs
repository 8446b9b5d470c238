using System.Diagnostics;

namespace Bulwark.Bench.Compare;

/// <summary>Latency and throughput of one closed-loop phase: N clients, each calling back to back.</summary>
public sealed record PhaseResult(int Clients, long Ops, double Seconds, double P50Ms, double P99Ms, double LoadAverage)
{
    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;
}

/// <summary>
/// Runs <paramref name="clients"/> callers of one operation back to back: an unmeasured warm-up, then the measured
/// phase; every call's latency is kept (these phases are short and slow, so a sorted array is enough).
/// </summary>
public static class ClosedLoop
{
    /// <param name="call">One operation of client c (its n-th); a failure fails the phase.</param>
    public static async Task<PhaseResult> RunAsync(int clients, TimeSpan warmup, TimeSpan duration, Func<int, long, Task> call)
    {
        await PhaseAsync(clients, warmup, call, null).ConfigureAwait(false);
        var latencies = new List<double>[clients];
        for (var c = 0; c < clients; c++)
        {
            latencies[c] = [];
        }

        var clock = Stopwatch.StartNew();
        await PhaseAsync(clients, duration, call, latencies).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new PhaseResult(clients, all.Length, seconds, Percentile(all, 0.50), Percentile(all, 0.99), ProcStat.LoadAverage());
    }

    private static Task PhaseAsync(int clients, TimeSpan duration, Func<int, long, Task> call, List<double>[]? latencies)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (long n = 0; Stopwatch.GetTimestamp() < end; n++)
            {
                var start = Stopwatch.GetTimestamp();
                await call(c, n).ConfigureAwait(false);
                latencies?[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })));
    }

    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
