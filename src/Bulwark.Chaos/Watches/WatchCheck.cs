namespace Bulwark.Chaos.Watches;

/// <summary>
/// Checks what the run's watchers received against each other and against the writes the clients saw acknowledged
/// (docs/chaos.md, "Watches"). Every watcher watches the whole workload prefix from the revision after the clear, so
/// each must see every modification in between, in revision order, exactly once, with the same content as every other
/// watcher, and every acknowledged write at the revision its response named. Pure: the logs are passed in.
/// </summary>
public static class WatchCheck
{
    private const int MaxExamples = 10;

    /// <param name="watchers">What each watcher recorded.</param>
    /// <param name="acknowledged">Writes acknowledged to the clients (puts and successful Txn puts) with their revisions.</param>
    /// <param name="fromRevision">The first revision every watcher asked for.</param>
    /// <param name="toRevision">The revision every watcher is known to have caught up to (events after it are not judged).</param>
    public static WatchReport Check(IReadOnlyList<WatcherLog> watchers, IReadOnlyList<AcknowledgedWrite> acknowledged, long fromRevision, long toRevision)
    {
        ArgumentNullException.ThrowIfNull(watchers);
        ArgumentNullException.ThrowIfNull(acknowledged);
        var problems = new List<string>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        void Problem(string kind, string detail)
        {
            counts[kind] = counts.GetValueOrDefault(kind) + 1;
            if (problems.Count < MaxExamples)
            {
                problems.Add($"{kind}: {detail}");
            }
        }

        // Order and duplicates, per stream and across a watcher's reconnects.
        var union = new Dictionary<(long Revision, string Key), WatchEvent>();
        var seenBy = new List<HashSet<(long, string)>>();
        foreach (var watcher in watchers)
        {
            var seen = new HashSet<(long, string)>();
            seenBy.Add(seen);
            foreach (var stream in watcher.Streams)
            {
                long last = 0;
                foreach (var e in stream)
                {
                    if (e.Revision < last)
                    {
                        Problem("out of order", $"watcher {watcher.Watcher} got revision {e.Revision} ({e.Key}) after {last}");
                    }

                    last = Math.Max(last, e.Revision);
                    if (!seen.Add((e.Revision, e.Key)))
                    {
                        Problem("duplicate", $"watcher {watcher.Watcher} got {e.Key} at revision {e.Revision} twice");
                    }

                    if (union.TryGetValue((e.Revision, e.Key), out var other))
                    {
                        if (other.Delete != e.Delete || other.Value != e.Value)
                        {
                            Problem("disagreement", $"revision {e.Revision} {e.Key}: watcher {watcher.Watcher} saw {Describe(e)}, another saw {Describe(other)}");
                        }
                    }
                    else
                    {
                        union[(e.Revision, e.Key)] = e;
                    }
                }
            }
        }

        // Completeness: every modification any watcher saw in [from, to] must reach every watcher, unless compacted away.
        var judged = union.Keys.Where(k => k.Revision >= fromRevision && k.Revision <= toRevision).ToList();
        var compactedSkips = 0;
        var behind = new List<string>();
        for (var w = 0; w < watchers.Count; w++)
        {
            var watcher = watchers[w];
            if (watcher.LastRevision < toRevision)
            {
                // Not a violation: it may have run out of time catching up; what it did get is still checked.
                behind.Add($"watcher {watcher.Watcher} reached revision {watcher.LastRevision}, not {toRevision}");
            }

            foreach (var key in judged)
            {
                if (seenBy[w].Contains(key))
                {
                    continue;
                }

                if (watcher.Compacted.Any(c => key.Revision >= c.From && key.Revision <= c.To))
                {
                    compactedSkips++;
                    continue;
                }

                if (key.Revision <= watcher.LastRevision)
                {
                    Problem("missed", $"watcher {watcher.Watcher} never got {key.Key} at revision {key.Revision}");
                }
            }
        }

        // Every acknowledged write is an event at its revision with its value.
        foreach (var write in acknowledged)
        {
            if (write.Revision < fromRevision || write.Revision > toRevision)
            {
                continue;
            }

            if (!union.TryGetValue((write.Revision, write.Key), out var e))
            {
                if (!watchers.All(x => x.Compacted.Any(c => write.Revision >= c.From && write.Revision <= c.To)))
                {
                    Problem("acknowledged write not watched", $"put({write.Key}, {write.Value}) acknowledged at revision {write.Revision}; no watcher got it");
                }
            }
            else if (e.Delete || e.Value != write.Value)
            {
                Problem("acknowledged write not watched", $"put({write.Key}, {write.Value}) acknowledged at revision {write.Revision}; the watchers got {Describe(e)} there");
            }
        }

        return new WatchReport(
            watchers.Count,
            union.Count,
            watchers.Sum(w => Math.Max(0, w.Streams.Count - 1)),
            acknowledged.Count(a => a.Revision >= fromRevision && a.Revision <= toRevision),
            compactedSkips,
            counts,
            problems,
            behind);
    }

    private static string Describe(WatchEvent e) => e.Delete ? "a delete" : $"value '{e.Value}'";
}

/// <summary>The watch check's result: what was seen and every kind of problem with a few examples.</summary>
public sealed record WatchReport(
    int Watchers,
    int DistinctEvents,
    int Reconnects,
    int AcknowledgedWritesChecked,
    int CompactedSkips,
    IReadOnlyDictionary<string, int> Problems,
    IReadOnlyList<string> Examples,
    IReadOnlyList<string> Behind)
{
    public bool Violated => Problems.Count > 0;
}
