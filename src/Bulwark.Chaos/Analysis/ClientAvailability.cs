using Bulwark.Chaos.Workload;

namespace Bulwark.Chaos.Analysis;

/// <summary>A stretch of the run with no successful linearizable operation, longer than the threshold.</summary>
public sealed record UnservedWindow(double FromMs, double ToMs)
{
    public double Ms => ToMs - FromMs;
}

/// <summary>
/// The availability the clients measured: 1 − (sum of the windows without a successful linearizable operation longer
/// than <see cref="ThresholdMs"/>) / the span. A window is the gap between two consecutive successful completions (or
/// between the span's edges and the first or last one). Shorter gaps are the normal spacing of a closed-loop workload
/// and a loaded machine's scheduling stalls, not the cluster failing to serve; a longer gap counts in full, from the
/// last success before it, as the model counts an outage from its start. docs/availability.md, "Measured by the
/// clients", gives the reasons for the threshold.
/// </summary>
public sealed record ClientAvailability(double FromMs, double ToMs, double ThresholdMs, IReadOnlyList<UnservedWindow> Windows)
{
    /// <summary>250 ms: five heartbeat intervals, and above the longest fault-free gap seen in the warm-up of runs on
    /// this (loaded) machine, so a window counted is the cluster not serving.</summary>
    public const double DefaultThresholdMs = 250;

    public double UnavailableMs => Windows.Sum(w => w.Ms);

    public double Unavailability => UnavailableMs / (ToMs - FromMs);

    public double Availability => 1 - Unavailability;

    public static ClientAvailability From(IReadOnlyList<OpEvent> events, double fromMs, double toMs, double thresholdMs = DefaultThresholdMs)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (!(toMs > fromMs))
        {
            throw new ArgumentOutOfRangeException(nameof(toMs), toMs, "the span must end after it starts");
        }

        if (!(thresholdMs >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdMs), thresholdMs, "the threshold must be ≥ 0");
        }

        var windows = new List<UnservedWindow>();
        var previous = fromMs;
        foreach (var t in events.Where(UnavailabilityWindows.CountsAsSuccess).Select(e => e.EndMs).Where(t => t > fromMs && t <= toMs).Order().Append(toMs))
        {
            if (t - previous > thresholdMs)
            {
                windows.Add(new UnservedWindow(previous, t));
            }

            previous = t;
        }

        return new ClientAvailability(fromMs, toMs, thresholdMs, windows);
    }
}
