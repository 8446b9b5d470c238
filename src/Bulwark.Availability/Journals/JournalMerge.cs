namespace Bulwark.Availability.Journals;

/// <summary>Tuning of <see cref="JournalMerge"/>.</summary>
/// <param name="CoalesceGap">Outages of one member separated by less than this are one outage: a member restarting
/// after a crash is heard from, then judged silent again while it catches up; that is one failure, not two.</param>
/// <param name="ReturnSlack">How long around its own outage a member's judgements of others are still its own silence
/// (a paused or cut-off member that resumes finds every peer silent for the time it was away; a cut-off leader judges
/// its peers down about when they judge it down, in either order).</param>
/// <param name="FailoverLookBack">How far before a new leader's election the merge looks for the start of the
/// failover, and how far around it for the old leader's outage.</param>
public sealed record MergeSettings(TimeSpan CoalesceGap, TimeSpan ReturnSlack, TimeSpan FailoverLookBack)
{
    public static MergeSettings Default { get; } = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
}

/// <summary>
/// Merges the members' event journals into one cluster log, the cluster's own view of its failures (what an operator
/// would have). Each member's failure detector journals node_down/node_up for its peers, so one crash appears once
/// per observer, and a busy leader's detector adds judgements of its own; concatenated, they overcount failures.
/// The rules (docs/availability.md, "One log from the members' journals"):
/// <list type="number">
/// <item>A member is down from the first node_down any observer wrote for it until the first node_up any observer
/// wrote after that (the first sign of its return); other observers' judgements made meanwhile are the same outage.</item>
/// <item>An observer's judgements end with its process: when it restarts (its own node_started) or stops (node_stopped),
/// what it still held down is withdrawn at its last record before that; an outage nobody else holds ends there.</item>
/// <item>The minority's view does not count: an outage whose every observer was itself down when it began, give or
/// take <see cref="MergeSettings.ReturnSlack"/>, by a judgement with more observers, or as many including the leader
/// elected then, is dropped. A leader cut off from its peers judges them down while they judge it down (and elect
/// another); a paused member that resumes finds every peer silent: only the first judgement is an outage.</item>
/// <item>Outages of one member less than <see cref="MergeSettings.CoalesceGap"/> apart are one.</item>
/// <item>Everything is clipped to the observation window.</item>
/// </list>
/// Failovers come from the leader_changed records: each first record of a leader in a higher term is an election;
/// it began at the first sign of trouble within <see cref="MergeSettings.FailoverLookBack"/> before it.
/// </summary>
public static class JournalMerge
{
    private const string NodeDown = "node_down";
    private const string NodeUp = "node_up";
    private const string NodeStarted = "node_started";
    private const string NodeStopped = "node_stopped";
    private const string LeaderChanged = "leader_changed";

    private enum Judgement
    {
        Down,
        Up,
        Withdraw,
    }

    private sealed record Mark(DateTimeOffset At, string Observer, Judgement Kind, long Order);

    public static ClusterJournal Merge(
        IReadOnlyList<JournalRecord> records, IReadOnlyList<string> nodes, DateTimeOffset windowStart, DateTimeOffset windowEnd,
        MergeSettings? settings = null, int unreadableLines = 0)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(nodes);
        if (windowEnd <= windowStart)
        {
            throw new AvailabilityInputException("window", $"the observation window {windowStart:O} .. {windowEnd:O} is empty");
        }

        settings ??= MergeSettings.Default;
        var names = nodes.Concat(records.Select(r => r.Observer)).Concat(records.Where(r => r.Event is NodeDown or NodeUp && r.Node is not null).Select(r => r.Node!))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var marks = Judgements(records, names);
        var raw = new List<(Outage Outage, HashSet<string> Holders)>();
        foreach (var (node, list) in marks)
        {
            raw.AddRange(Outages(node, list));
        }

        // Rule 3: drop what only the minority saw.
        var elections = Elections(records);
        var rawOutages = raw.Select(r => r.Outage).ToList();
        var kept = rawOutages.Where(o => !FromMinority(o, rawOutages, elections, settings.ReturnSlack)).ToList();
        var dropped = raw.Count - kept.Count;

        // Rule 4: coalesce flaps.
        var coalesced = 0;
        var merged = new List<Outage>();
        foreach (var group in kept.GroupBy(o => o.Node, StringComparer.Ordinal))
        {
            Outage? current = null;
            foreach (var o in group.OrderBy(o => o.Start))
            {
                if (current is not null && o.Start - current.End < settings.CoalesceGap)
                {
                    current = current with
                    {
                        End = o.End > current.End ? o.End : current.End,
                        OpenAtEnd = current.OpenAtEnd || o.OpenAtEnd,
                        Observers = current.Observers.Union(o.Observers, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                    };
                    coalesced++;
                    continue;
                }

                if (current is not null)
                {
                    merged.Add(current);
                }

                current = o;
            }

            if (current is not null)
            {
                merged.Add(current);
            }
        }

        // Rule 5: clip to the window.
        var clipped = new List<Outage>();
        foreach (var o in merged)
        {
            var start = o.Start < windowStart ? windowStart : o.Start;
            var open = o.OpenAtEnd || o.End >= windowEnd;
            var end = open ? windowEnd : o.End;
            if (end > start || (open && start < windowEnd))
            {
                clipped.Add(o with { Start = start, End = end, OpenAtEnd = open });
            }
        }

        var clippedAway = merged.Count - clipped.Count;
        var failovers = Failovers(records, clipped, windowStart, windowEnd, settings.FailoverLookBack);
        var leaderOutages = new HashSet<Outage>();
        foreach (var f in failovers.Where(f => f.AfterLeaderOutage))
        {
            if (LeaderOutage(clipped, f, settings.FailoverLookBack) is { } o)
            {
                leaderOutages.Add(o);
            }
        }

        var outages = clipped.Select(o => leaderOutages.Contains(o) ? o with { WasLeader = true } : o).OrderBy(o => o.Start).ThenBy(o => o.Node, StringComparer.Ordinal).ToList();
        var counts = new MergeCounts(
            records.Select(r => r.Observer).Distinct(StringComparer.Ordinal).Count(),
            records.Count(r => r.Event == NodeDown),
            records.Count(r => r.Event == NodeUp),
            raw.Count, dropped, coalesced, clippedAway, unreadableLines);
        return new ClusterJournal(names, windowStart, windowEnd, outages, failovers, counts);
    }

    /// <summary>Per judged member, the judgements about it in time order (rule 2's withdrawals included).</summary>
    private static Dictionary<string, List<Mark>> Judgements(IReadOnlyList<JournalRecord> records, IReadOnlyList<string> names)
    {
        var marks = names.ToDictionary(n => n, _ => new List<Mark>(), StringComparer.Ordinal);
        long order = 0;
        foreach (var byObserver in records.GroupBy(r => r.Observer, StringComparer.Ordinal))
        {
            var held = new HashSet<string>(StringComparer.Ordinal);
            DateTimeOffset? lastRecord = null;
            foreach (var r in byObserver.OrderBy(r => r.At))
            {
                var selfLifeEnds = r.Node == r.Observer && r.Event is NodeStarted or NodeStopped;
                if (selfLifeEnds && held.Count > 0)
                {
                    // A restart: what this observer held down before was withdrawn when it died (its last record then);
                    // a clean stop: now.
                    var at = r.Event == NodeStopped ? r.At : lastRecord ?? r.At;
                    foreach (var node in held)
                    {
                        marks[node].Add(new Mark(at, r.Observer, Judgement.Withdraw, order++));
                    }

                    held.Clear();
                }

                if (r.Node is { } subject && subject != r.Observer && r.Event is NodeDown or NodeUp)
                {
                    if (r.Event == NodeDown)
                    {
                        held.Add(subject);
                    }
                    else
                    {
                        held.Remove(subject);
                    }

                    marks[subject].Add(new Mark(r.At, r.Observer, r.Event == NodeDown ? Judgement.Down : Judgement.Up, order++));
                }

                lastRecord = r.At;
            }
        }

        foreach (var list in marks.Values)
        {
            list.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Order.CompareTo(b.Order));
        }

        return marks;
    }

    /// <summary>Rule 1 and 2 for one member: down at the first judgement, up at the first return or when nobody holds it down.</summary>
    private static IEnumerable<(Outage, HashSet<string>)> Outages(string node, List<Mark> marks)
    {
        var holders = new HashSet<string>(StringComparer.Ordinal);
        var observers = new HashSet<string>(StringComparer.Ordinal);
        DateTimeOffset? start = null;
        foreach (var m in marks)
        {
            switch (m.Kind)
            {
                case Judgement.Down:
                    holders.Add(m.Observer);
                    observers.Add(m.Observer);
                    start ??= m.At;
                    break;
                case Judgement.Up:
                    if (start is { } s)
                    {
                        yield return (new Outage(node, s, m.At, observers.Order(StringComparer.Ordinal).ToList(), false), [.. observers]);
                        start = null;
                        observers.Clear();
                    }

                    holders.Clear();
                    break;
                case Judgement.Withdraw:
                    holders.Remove(m.Observer);
                    if (start is { } from && holders.Count == 0)
                    {
                        yield return (new Outage(node, from, m.At, observers.Order(StringComparer.Ordinal).ToList(), false), [.. observers]);
                        start = null;
                        observers.Clear();
                    }

                    break;
            }
        }

        if (start is { } open)
        {
            yield return (new Outage(node, open, DateTimeOffset.MaxValue, observers.Order(StringComparer.Ordinal).ToList(), true), [.. observers]);
        }
    }

    /// <summary>
    /// Rule 3: every observer of <paramref name="o"/> was itself judged down around the time (an outage of its own that
    /// began up to <paramref name="slack"/> after <paramref name="o"/> began or ended less than that before), and that
    /// outage outweighs <paramref name="o"/>: more observers judged it, or as many and among them the member that led
    /// the cluster just after (the last election up to <paramref name="slack"/> later). A cut-off leader and the
    /// follower it judges down accuse each other; the follower that was elected, or the leader that stayed, is believed.
    /// </summary>
    private static bool FromMinority(Outage o, IReadOnlyList<Outage> all, IReadOnlyList<JournalRecord> elections, TimeSpan slack)
    {
        var leader = elections.LastOrDefault(e => e.At <= o.Start + slack)?.Leader;
        return o.Observers.Count > 0 && o.Observers.All(observer => all.Any(p =>
            p.Node == observer && p.Start - slack <= o.Start && (p.OpenAtEnd || o.Start <= p.End + slack)
            && (p.Observers.Count > o.Observers.Count || (p.Observers.Count == o.Observers.Count && leader is not null && p.Observers.Contains(leader)))));
    }

    /// <summary>The first leader_changed record of each higher term, in time order: the cluster's elections.</summary>
    private static List<JournalRecord> Elections(IReadOnlyList<JournalRecord> records)
    {
        var elections = new List<JournalRecord>();
        long term = long.MinValue;
        foreach (var r in records.Where(r => r.Event == LeaderChanged && r.Leader is not null && r.Term is not null).OrderBy(r => r.At))
        {
            if (r.Term!.Value > term)
            {
                elections.Add(r);
                term = r.Term.Value;
            }
        }

        return elections;
    }

    private static List<Failover> Failovers(IReadOnlyList<JournalRecord> records, IReadOnlyList<Outage> outages, DateTimeOffset windowStart, DateTimeOffset windowEnd, TimeSpan lookBack)
    {
        var elections = Elections(records);
        var failovers = new List<Failover>();
        for (var i = 1; i < elections.Count; i++)
        {
            var previous = elections[i - 1];
            var elected = elections[i];
            if (elected.At < windowStart || elected.At > windowEnd)
            {
                continue;
            }

            var earliest = elected.At - lookBack > previous.At ? elected.At - lookBack : previous.At;
            var signs = records.Where(r => r.At > earliest && r.At <= elected.At && IsTroubleSign(r, previous.Leader!)).Select(r => r.At).ToList();
            var start = signs.Count > 0 ? signs.Min() : elected.At;
            var failover = new Failover(previous.Leader, elected.Leader!, elected.Term!.Value, start, elected.At, false);
            failovers.Add(failover with { AfterLeaderOutage = LeaderOutage(outages, failover, lookBack) is not null });
        }

        return failovers;
    }

    private static bool IsTroubleSign(JournalRecord r, string leader) =>
        r.Event is "became_candidate"
        || (r.Node == leader && r.Event is "leader_suspected" or "peer_suspected" or "peer_down" or NodeDown or "leadership_transfer_for_health");

    /// <summary>The previous leader's outage around a failover: it began between the look-back before the failover's
    /// start and the look-back after the election (a crash is judged down a second after it, often after the election).</summary>
    private static Outage? LeaderOutage(IReadOnlyList<Outage> outages, Failover f, TimeSpan lookBack) =>
        f.PreviousLeader is null ? null
        : outages.Where(o => o.Node == f.PreviousLeader && o.Start >= f.Start - lookBack && o.Start <= f.Elected + lookBack).OrderBy(o => o.Start).FirstOrDefault();
}
