using System.Globalization;
using Bulwark.Availability.Journals;
using Bulwark.Chaos.Faults;

namespace Bulwark.Chaos.Analysis;

/// <summary>
/// The chaos schedule held against the cluster's merged journal. The schedule is the ground truth of what was done to
/// which member and when; the journal is what the cluster saw. Every fault that takes its target out (kill, pause,
/// partition, fsync error) must appear as an outage of that member overlapping the fault (from its start until it was
/// recovered, plus <see cref="Slack"/>): otherwise it was <see cref="Missed"/>. An outage no such fault explains is
/// <see cref="Spurious"/> (a detector's false alarm, or a member that was collateral damage of a fault on another).
/// </summary>
public sealed record JournalScheduleCheck(int FaultsTakingMemberOut, int Seen, IReadOnlyList<string> Missed, IReadOnlyList<string> Spurious)
{
    /// <summary>How long after a fault was recovered an outage of its target still counts as its outage: the journal's
    /// down judgement comes a second or more after the fault, and its end after the member is heard from again.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    public static JournalScheduleCheck From(IReadOnlyList<FaultRecord> faults, IReadOnlyList<Outage> outages, DateTimeOffset zero)
    {
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(outages);
        var explained = new HashSet<Outage>();
        var missed = new List<string>();
        var takingOut = 0;
        foreach (var fault in faults)
        {
            var from = zero + TimeSpan.FromMilliseconds(fault.StartMs);
            var to = zero + TimeSpan.FromMilliseconds(Math.Max(fault.EndMs, fault.RecoveredMs ?? fault.EndMs)) + Slack;
            var ofTarget = outages.Where(o => o.Node == fault.Target && o.Start <= to && o.End >= from).ToList();
            explained.UnionWith(ofTarget);
            if (!TakesMemberOut(fault.Kind))
            {
                continue;
            }

            takingOut++;
            if (ofTarget.Count == 0)
            {
                missed.Add(string.Create(CultureInfo.InvariantCulture, $"#{fault.Index} {fault.Kind} on {fault.Target} at {fault.StartMs / 1000:0.0} s"));
            }
        }

        var spurious = outages.Where(o => !explained.Contains(o))
            .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Node} at {(o.Start - zero).TotalSeconds:0.0} s for {o.Seconds:0.0} s (judged by {string.Join(", ", o.Observers)})"))
            .ToList();
        return new JournalScheduleCheck(takingOut, takingOut - missed.Count, missed, spurious);
    }

    private static bool TakesMemberOut(string kind) => FaultKinds.Names.Contains(kind) && FaultKinds.Parse(kind)[0].TakesMemberOut();
}
