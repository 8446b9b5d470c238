namespace Bulwark.Server.Observability;

/// <summary>Put latency percentiles over a recent window, as the status page shows them.</summary>
public sealed record LatencySummary(int Samples, double P50Ms, double P99Ms);

/// <summary>
/// Records how long client puts took and answers their p50/p99 over the last <c>window</c> (one minute by default).
/// Keeps at most <c>capacity</c> newest samples in a ring, so a burst costs bounded memory and the percentiles then
/// describe the newest puts. Thread-safe: puts complete on many threads.
/// </summary>
public sealed class PutLatencyRecorder
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);

    private readonly Lock gate = new();
    private readonly TimeProvider time;
    private readonly TimeSpan window;
    private readonly long[] at;
    private readonly double[] millis;
    private int next;
    private int count;

    public PutLatencyRecorder(TimeProvider? time = null, TimeSpan? window = null, int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.time = time ?? TimeProvider.System;
        this.window = window ?? DefaultWindow;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(this.window, TimeSpan.Zero, nameof(window));
        at = new long[capacity];
        millis = new double[capacity];
    }

    public TimeSpan Window => window;

    public void Record(TimeSpan took)
    {
        var now = time.GetTimestamp();
        lock (gate)
        {
            at[next] = now;
            millis[next] = Math.Max(0, took.TotalMilliseconds);
            next = (next + 1) % at.Length;
            count = Math.Min(count + 1, at.Length);
        }
    }

    /// <summary>The percentiles of the puts recorded within the window (nearest rank); null when there were none.</summary>
    public LatencySummary? Summary()
    {
        var now = time.GetTimestamp();
        var oldest = now - (long)(window.TotalSeconds * time.TimestampFrequency);
        List<double> recent;
        lock (gate)
        {
            recent = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                if (at[i] >= oldest)
                {
                    recent.Add(millis[i]);
                }
            }
        }

        if (recent.Count == 0)
        {
            return null;
        }

        recent.Sort();
        return new LatencySummary(recent.Count, Rank(recent, 0.50), Rank(recent, 0.99));
    }

    private static double Rank(List<double> sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];
}
