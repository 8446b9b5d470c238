using System.Diagnostics;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Bench.Storage;

internal sealed record WalResult(int EntryBytes, int Batch, double AppendsPerSecond, double SyncsPerSecond, double MBps, double AppendMsPerBatch, double SyncMsPerBatch);

/// <summary>Append(batch) + Sync() in a loop against a fresh WAL on the real disk.</summary>
internal static class WalRun
{
    public static WalResult Run(string dir, int entryBytes, int batch, TimeSpan duration, long segmentBytes)
    {
        var walDir = Path.Combine(dir, $"wal-{entryBytes}-{batch}");
        var (wal, _) = WriteAheadLog.Open(RealFileSystem.Instance, walDir, new WalOptions { SegmentSize = segmentBytes });
        var data = new byte[entryBytes];
        new Random(2).NextBytes(data);
        var entries = new Entry[batch];
        ulong next = 1;
        long appended = 0;
        long syncs = 0;
        long appendTicks = 0;
        long syncTicks = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            for (var i = 0; i < batch; i++)
            {
                entries[i] = new Entry(1, next++, EntryType.Normal, data);
            }

            var t0 = Stopwatch.GetTimestamp();
            wal.Append(entries);
            var t1 = Stopwatch.GetTimestamp();
            wal.Sync();
            syncTicks += Stopwatch.GetTimestamp() - t1;
            appendTicks += t1 - t0;
            appended += batch;
            syncs++;
        }

        var seconds = sw.Elapsed.TotalSeconds;
        wal.Dispose();
        Directory.Delete(walDir, recursive: true);
        var ms = 1000.0 / Stopwatch.Frequency / syncs;
        return new WalResult(entryBytes, batch, appended / seconds, syncs / seconds, appended * (double)entryBytes / 1e6 / seconds,
            appendTicks * ms, syncTicks * ms);
    }
}
