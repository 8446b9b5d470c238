using System.Diagnostics;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Bench.Storage;

internal sealed record WalResult(int EntryBytes, int Batch, double AppendsPerSecond, double SyncsPerSecond, double MBps);

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
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            for (var i = 0; i < batch; i++)
            {
                entries[i] = new Entry(1, next++, EntryType.Normal, data);
            }

            wal.Append(entries);
            wal.Sync();
            appended += batch;
            syncs++;
        }

        var seconds = sw.Elapsed.TotalSeconds;
        wal.Dispose();
        Directory.Delete(walDir, recursive: true);
        return new WalResult(entryBytes, batch, appended / seconds, syncs / seconds, appended * (double)entryBytes / 1e6 / seconds);
    }
}
