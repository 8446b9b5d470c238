namespace Bulwark.Bench.Storage;

/// <summary>What a <see cref="WalLoop"/> did over some time: totals, and the rates the table shows.</summary>
internal sealed record WalResult(int EntryBytes, long Appended, long Syncs, double Seconds, double AppendMs, double SyncMs)
{
    public double AppendsPerSecond => Appended / Seconds;

    public double SyncsPerSecond => Syncs / Seconds;

    public double MBps => Appended * (double)EntryBytes / 1e6 / Seconds;

    public double AppendMsPerBatch => AppendMs / Math.Max(1, Syncs);

    public double SyncMsPerBatch => SyncMs / Math.Max(1, Syncs);

    public static WalResult Of(WalLoop loop) =>
        new(loop.EntryBytes, loop.Appended, loop.Syncs, loop.Seconds, loop.AppendMsPerBatch * loop.Syncs, loop.SyncMsPerBatch * loop.Syncs);

    public WalResult Minus(WalResult earlier) =>
        new(EntryBytes, Appended - earlier.Appended, Syncs - earlier.Syncs, Seconds - earlier.Seconds, AppendMs - earlier.AppendMs, SyncMs - earlier.SyncMs);
}
