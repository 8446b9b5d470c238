namespace Bulwark.Server.Observability;

/// <summary>
/// The phi-accrual failure detector (Hayashibara et al.): from the recent inter-arrival times of a peer's messages it
/// gives phi = -log10(P(a gap this long or longer)), assuming normally distributed gaps. Phi grows continuously with
/// silence, so callers pick thresholds instead of a fixed timeout. Pure: time is passed in, nothing is read from a clock.
/// </summary>
public sealed class PhiAccrualDetector
{
    private readonly Queue<double> intervals = new();
    private readonly int windowSize;
    private readonly double minStdDevMs;
    private readonly double acceptablePauseMs;
    private double sum;
    private double sumOfSquares;
    private TimeSpan? lastArrival;

    /// <param name="windowSize">How many recent intervals shape the distribution.</param>
    /// <param name="minStdDev">A floor on the deviation so a perfectly regular peer is not suspected after a few ms of jitter.</param>
    /// <param name="acceptablePause">Added to the mean: a pause this long (GC, a loaded machine) is not yet suspicious.</param>
    public PhiAccrualDetector(int windowSize, TimeSpan minStdDev, TimeSpan acceptablePause)
    {
        if (windowSize < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "window size must be at least 2");
        }

        if (minStdDev <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minStdDev), minStdDev, "minimum standard deviation must be positive");
        }

        if (acceptablePause < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(acceptablePause), acceptablePause, "acceptable pause must not be negative");
        }

        this.windowSize = windowSize;
        minStdDevMs = minStdDev.TotalMilliseconds;
        acceptablePauseMs = acceptablePause.TotalMilliseconds;
    }

    /// <summary>When the last message arrived (null before the first).</summary>
    public TimeSpan? LastArrival => lastArrival;

    /// <summary>How many intervals the estimate rests on.</summary>
    public int SampleCount => intervals.Count;

    public double MeanIntervalMs => intervals.Count == 0 ? 0 : sum / intervals.Count;

    public double StdDevMs
    {
        get
        {
            if (intervals.Count == 0)
            {
                return minStdDevMs;
            }

            var mean = MeanIntervalMs;
            var variance = Math.Max(0, (sumOfSquares / intervals.Count) - (mean * mean));
            return Math.Max(minStdDevMs, Math.Sqrt(variance));
        }
    }

    /// <summary>Records a message arriving at <paramref name="now"/> (a monotonic time; earlier than the last one is an error).</summary>
    public void Heartbeat(TimeSpan now)
    {
        if (lastArrival is { } last)
        {
            if (now < last)
            {
                throw new ArgumentOutOfRangeException(nameof(now), now, $"arrival at {now} is before the previous one at {last}");
            }

            var interval = (now - last).TotalMilliseconds;
            intervals.Enqueue(interval);
            sum += interval;
            sumOfSquares += interval * interval;
            if (intervals.Count > windowSize)
            {
                var old = intervals.Dequeue();
                sum -= old;
                sumOfSquares -= old * old;
            }
        }

        lastArrival = now;
    }

    /// <summary>Suspicion at <paramref name="now"/>: 0 before the first two arrivals, then rising with silence (capped at 100).</summary>
    public double Phi(TimeSpan now)
    {
        if (lastArrival is not { } last || intervals.Count == 0)
        {
            return 0;
        }

        var elapsed = Math.Max(0, (now - last).TotalMilliseconds);
        var mean = MeanIntervalMs + acceptablePauseMs;
        var y = (elapsed - mean) / StdDevMs;
        // Logistic approximation of the normal tail (as in Akka's detector): accurate enough and never log(0) for moderate y.
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        var phi = elapsed > mean ? -Math.Log10(e / (1.0 + e)) : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
        return double.IsFinite(phi) ? Math.Min(100, Math.Max(0, phi)) : 100;
    }
}
