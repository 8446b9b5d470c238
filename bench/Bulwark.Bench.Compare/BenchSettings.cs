namespace Bulwark.Bench.Compare;

/// <summary>How long and how much: the full run, or --quick for a short check that everything works.</summary>
public sealed record BenchSettings
{
    public required TimeSpan Duration { get; init; }

    public required TimeSpan Warmup { get; init; }

    /// <summary>Unmeasured load on a fresh cluster before its first workload, so JIT tiering (Bulwark) and caches settle.</summary>
    public required TimeSpan ClusterWarmup { get; init; }

    public required int KeySpace { get; init; }

    public required int FailoverTrials { get; init; }

    /// <summary>Writing before the leader is killed.</summary>
    public required TimeSpan BeforeKill { get; init; }

    /// <summary>Writing on after the first acknowledged write that followed the kill.</summary>
    public required TimeSpan AfterRecovery { get; init; }

    /// <summary>Deadline of one failover write; on expiry the writer moves to the next endpoint.</summary>
    public required TimeSpan FailoverCallTimeout { get; init; }

    public required int MemoryKeys { get; init; }

    /// <summary>Keys loaded before the backup benchmark's save and restore (--backup-keys).</summary>
    public required int BackupKeys { get; init; }

    /// <summary>Keys loaded before a new member is added and timed catching up (--catchup-keys).</summary>
    public required int CatchUpKeys { get; init; }

    /// <summary>Keys of the --huge store (--huge-keys).</summary>
    public required int HugeKeys { get; init; }

    /// <summary>
    /// --snapshot-count of both systems in the catch-up benchmark: with transactions of 100 puts, 1M keys are about
    /// 10,000 entries, fewer than the default 100,000, so without it no snapshot would exist and a new member would
    /// replay the log instead.
    /// </summary>
    public int CatchUpSnapshotCount { get; init; } = 2000;

    /// <summary>How long a new member may take to catch up before the benchmark gives up.</summary>
    public TimeSpan CatchUpPatience { get; init; } = TimeSpan.FromMinutes(15);

    public TimeSpan Patience { get; init; } = TimeSpan.FromSeconds(60);

    public static BenchSettings Full => new()
    {
        Duration = TimeSpan.FromSeconds(10),
        Warmup = TimeSpan.FromSeconds(2),
        ClusterWarmup = TimeSpan.FromSeconds(15),
        KeySpace = 10_000,
        FailoverTrials = 5,
        BeforeKill = TimeSpan.FromSeconds(2),
        AfterRecovery = TimeSpan.FromSeconds(1),
        FailoverCallTimeout = TimeSpan.FromMilliseconds(250),
        MemoryKeys = 1_000_000,
        BackupKeys = 1_000_000,
        CatchUpKeys = 1_000_000,
        HugeKeys = 10_000_000,
    };

    public static BenchSettings Quick => new()
    {
        Duration = TimeSpan.FromSeconds(2),
        Warmup = TimeSpan.FromSeconds(0.5),
        ClusterWarmup = TimeSpan.FromSeconds(3),
        KeySpace = 1_000,
        FailoverTrials = 2,
        BeforeKill = TimeSpan.FromSeconds(1),
        AfterRecovery = TimeSpan.FromSeconds(0.5),
        FailoverCallTimeout = TimeSpan.FromMilliseconds(250),
        MemoryKeys = 50_000,
        BackupKeys = 50_000,
        CatchUpKeys = 50_000,
        HugeKeys = 100_000,
    };
}
