using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Workload;

namespace Bulwark.Chaos.Analysis;

/// <summary>The longest stretch without a successful linearizable operation (puts, linearizable gets, Txns) from a
/// fault's start until the next fault starts (or the workload ends), and where it began.</summary>
public sealed record FaultWindow(int Fault, double LongestMs, double FromMs);

public static class UnavailabilityWindows
{
    public static IReadOnlyList<FaultWindow> PerFault(IReadOnlyList<FaultRecord> faults, IReadOnlyList<OpEvent> events, double endMs)
    {
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(events);
        var successes = events.Where(CountsAsSuccess).Select(e => e.EndMs).Order().ToArray();
        var windows = new List<FaultWindow>();
        for (var i = 0; i < faults.Count; i++)
        {
            var from = faults[i].StartMs;
            var to = i + 1 < faults.Count ? faults[i + 1].StartMs : endMs;
            var previous = from;
            var longest = (Ms: 0.0, From: from);
            foreach (var t in successes.Where(t => t > from && t <= to).Append(to))
            {
                if (t - previous > longest.Ms)
                {
                    longest = (t - previous, previous);
                }

                previous = t;
            }

            windows.Add(new FaultWindow(faults[i].Index, longest.Ms, longest.From));
        }

        return windows;
    }

    /// <summary>The same measure over a span with no fault, for a baseline.</summary>
    public static double Longest(IReadOnlyList<OpEvent> events, double fromMs, double toMs)
    {
        ArgumentNullException.ThrowIfNull(events);
        var previous = fromMs;
        var longest = 0.0;
        foreach (var t in events.Where(CountsAsSuccess).Select(e => e.EndMs).Where(t => t > fromMs && t <= toMs).Order().Append(toMs))
        {
            longest = Math.Max(longest, t - previous);
            previous = t;
        }

        return longest;
    }

    public static bool CountsAsSuccess(OpEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Outcome == OpOutcome.Ok && e.Kind is "put" or "get" or "cas" or "txn";
    }
}
