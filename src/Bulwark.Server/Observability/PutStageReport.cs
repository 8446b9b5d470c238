using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Bulwark.Server.Observability;

/// <summary>Process counters at one moment, so a report can say what a run of puts cost the process.</summary>
public sealed record PutStageBaseline(long Timestamp, long AllocatedBytes, long PoolWorkItems, int Gen0, int Gen1, int Gen2,
    TimeSpan Cpu, long ContextSwitches)
{
    public static PutStageBaseline Now()
    {
        using var process = Process.GetCurrentProcess();
        return new PutStageBaseline(Stopwatch.GetTimestamp(), GC.GetTotalAllocatedBytes(precise: false), ThreadPool.CompletedWorkItemCount,
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), process.TotalProcessorTime, ContextSwitchesOfProcess());
    }

    /// <summary>Voluntary and involuntary context switches of every thread of this process (Linux /proc; -1 elsewhere).</summary>
    private static long ContextSwitchesOfProcess()
    {
        try
        {
            long total = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) ||
                            line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // the thread ended while we looked
                }
            }

            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}

/// <summary>
/// The summary of <see cref="PutStageTrace"/>: per stage, the time from the stage before it on the put's path (median
/// and p99 in µs, and the median's share of the median total), the threads that ran each stage, hand-offs between
/// threads per put, and the process's counters (allocations, pool work items, context switches, CPU) since the reset.
/// </summary>
public sealed class PutStageReport(bool enabled, IReadOnlyList<PutSpan> spans, PutStageBaseline since, PutStageBaseline now)
{
    /// <summary>The leader's path, in order: each row is the time from the previous stage. Replication runs beside the
    /// WAL write and sync (see <see cref="LeaderReplication"/>); the loop steps the first ack only after its own sync.</summary>
    public static readonly IReadOnlyList<PutStage> LeaderPath =
    [
        PutStage.GrpcEntered, PutStage.Posted, PutStage.LoopTaken, PutStage.Proposed, PutStage.ReadyTaken, PutStage.AppendsHanded,
        PutStage.WalWritten, PutStage.Synced, PutStage.AckStepped, PutStage.CommitHanded, PutStage.ApplyStarted, PutStage.Applied,
        PutStage.Completed, PutStage.Resumed,
    ];

    /// <summary>The replication branch on the leader, from the appends' hand-off to the loop stepping the first ack.</summary>
    public static readonly IReadOnlyList<PutStage> LeaderReplication =
        [PutStage.AppendsHanded, PutStage.AppendsOnSocket, PutStage.AckReceived, PutStage.AckStepped];

    /// <summary>A follower's part: from the append's arrival to its ack on the socket.</summary>
    public static readonly IReadOnlyList<PutStage> FollowerPath =
    [
        PutStage.AppendReceived, PutStage.AppendStepped, PutStage.ReadyTaken, PutStage.WalWritten, PutStage.Synced,
        PutStage.AckHanded, PutStage.AckOnSocket,
    ];

    /// <summary>Leader puts with every stage of the path stamped.</summary>
    public IReadOnlyList<PutSpan> LeaderPuts { get; } =
        [.. spans.Where(s => !s.Follower && !s.Failed && LeaderPath.All(stage => s.At(stage) != 0))];

    /// <summary>Entries this member received as a follower, with every stage up to the ack's hand-off stamped.</summary>
    public IReadOnlyList<PutSpan> FollowerEntries { get; } =
        [.. spans.Where(s => s.Follower && FollowerPath.Take(FollowerPath.Count - 1).All(stage => s.At(stage) != 0))];

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        if (!enabled)
        {
            text.Append(CultureInfo.InvariantCulture, $"put stage tracing is off (start the member with {PutStageTrace.EnvironmentVariable}=1)\n\n");
        }
        else if (LeaderPuts.Count > 0)
        {
            AppendPath(text, "leader: a put's path", LeaderPuts, LeaderPath, total: true);
            AppendPath(text, "leader: replication, beside the WAL write and sync", LeaderPuts, LeaderReplication, total: false);
            AppendHandOffs(text, LeaderPuts, LeaderPath);
        }
        else if (FollowerEntries.Count > 0)
        {
            AppendPath(text, "follower: an append's path to its ack", FollowerEntries, FollowerPath, total: true);
            AppendHandOffs(text, FollowerEntries, FollowerPath);
        }
        else
        {
            text.Append("no complete put traced since the reset\n\n");
        }

        AppendCounters(text);
        return text.ToString();
    }

    private static void AppendPath(StringBuilder text, string title, IReadOnlyList<PutSpan> puts, IReadOnlyList<PutStage> path, bool total)
    {
        text.Append(CultureInfo.InvariantCulture, $"### {title} ({puts.Count} traced)\n\n");
        text.Append("| stage | from | median µs | p99 µs | share of median total | thread |\n|---|---|---:|---:|---:|---|\n");
        var totals = Sorted(puts.Select(p => Micros(p.At(path[^1]) - p.At(path[0]))));
        var medianTotal = Rank(totals, 0.5);
        for (var i = 1; i < path.Count; i++)
        {
            var stage = path[i];
            var from = path[i - 1];
            var steps = Sorted(puts.Where(p => p.At(stage) != 0 && p.At(from) != 0).Select(p => Micros(p.At(stage) - p.At(from))));
            if (steps.Count == 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {stage} | {from} | - | - | - | - |\n");
                continue;
            }

            var median = Rank(steps, 0.5);
            text.Append(CultureInfo.InvariantCulture,
                $"| {stage} | {from} | {median:F1} | {Rank(steps, 0.99):F1} | {(medianTotal > 0 ? median / medianTotal : 0):P0} | {CommonThread(puts, stage)} |\n");
        }

        text.Append(CultureInfo.InvariantCulture,
            $"| **{(total ? "total" : "branch")}** | {path[0]} | **{medianTotal:F1}** | **{Rank(totals, 0.99):F1}** | | |\n\n");
    }

    private static void AppendHandOffs(StringBuilder text, IReadOnlyList<PutSpan> puts, IReadOnlyList<PutStage> path)
    {
        var handOffs = Sorted(puts.Select(p => (double)Enumerable.Range(1, path.Count - 1)
            .Count(i => p.At(path[i]) != 0 && p.ThreadId(path[i]) != p.ThreadId(path[i - 1]))));
        var threads = Sorted(puts.Select(p => (double)path.Where(s => p.At(s) != 0).Select(p.ThreadId).Distinct().Count()));
        text.Append(CultureInfo.InvariantCulture,
            $"thread hand-offs along the path per put: median {Rank(handOffs, 0.5):F0}, p99 {Rank(handOffs, 0.99):F0}; distinct threads per put: median {Rank(threads, 0.5):F0}\n\n");
    }

    private void AppendCounters(StringBuilder text)
    {
        var seconds = (double)(now.Timestamp - since.Timestamp) / Stopwatch.Frequency;
        text.Append(CultureInfo.InvariantCulture, $"process since the reset ({seconds:F1} s):\n\n");
        text.Append(CultureInfo.InvariantCulture, $"    allocated_bytes {now.AllocatedBytes - since.AllocatedBytes}\n");
        text.Append(CultureInfo.InvariantCulture, $"    pool_work_items {now.PoolWorkItems - since.PoolWorkItems}\n");
        text.Append(CultureInfo.InvariantCulture, $"    context_switches {(now.ContextSwitches < 0 ? -1 : now.ContextSwitches - since.ContextSwitches)}\n");
        text.Append(CultureInfo.InvariantCulture, $"    cpu_ms {(now.Cpu - since.Cpu).TotalMilliseconds:F0}\n");
        text.Append(CultureInfo.InvariantCulture, $"    gc_collections {now.Gen0 - since.Gen0}/{now.Gen1 - since.Gen1}/{now.Gen2 - since.Gen2}\n");
    }

    private static string CommonThread(IReadOnlyList<PutSpan> puts, PutStage stage) =>
        puts.Select(p => p.Thread(stage)).Where(t => t is not null).GroupBy(t => t).OrderByDescending(g => g.Count()).FirstOrDefault()?.Key ?? "-";

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static List<double> Sorted(IEnumerable<double> values)
    {
        var list = values.ToList();
        list.Sort();
        return list;
    }

    private static double Rank(List<double> sorted, double quantile) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];
}
