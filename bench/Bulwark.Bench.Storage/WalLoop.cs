using System.Diagnostics;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Bench.Storage;

/// <summary>
/// Append(batch) + Sync() on one WAL for a whole case, run in slices interleaved with the raw loop's. Segment
/// roll-overs happen inside the timed slices, as they would in a node; between slices (untimed) the log is released
/// up to its end so the disk does not fill.
/// </summary>
internal sealed class WalLoop : IDisposable
{
    private readonly string dir;
    private readonly WriteAheadLog wal;
    private readonly byte[] data;
    private readonly Entry[] entries;
    private ulong next = 1;
    private long appendTicks;
    private long syncTicks;

    public WalLoop(string dir, int entryBytes, int batch, long segmentBytes)
    {
        this.dir = Path.Combine(dir, $"wal-{entryBytes}-{batch}");
        (wal, _) = WriteAheadLog.Open(RealFileSystem.Instance, this.dir, new WalOptions { SegmentSize = segmentBytes });
        EntryBytes = entryBytes;
        data = new byte[entryBytes];
        new Random(2).NextBytes(data);
        entries = new Entry[batch];
    }

    public int EntryBytes { get; }

    public long Appended { get; private set; }

    public long Syncs { get; private set; }

    public double Seconds { get; private set; }

    public double AppendMsPerBatch => appendTicks * 1000.0 / Stopwatch.Frequency / Math.Max(1, Syncs);

    public double SyncMsPerBatch => syncTicks * 1000.0 / Stopwatch.Frequency / Math.Max(1, Syncs);

    public void RunFor(TimeSpan duration)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = new Entry(1, next++, EntryType.Normal, data);
            }

            var t0 = Stopwatch.GetTimestamp();
            wal.Append(entries);
            var t1 = Stopwatch.GetTimestamp();
            wal.Sync();
            syncTicks += Stopwatch.GetTimestamp() - t1;
            appendTicks += t1 - t0;
            Appended += entries.Length;
            Syncs++;
        }

        Seconds += sw.Elapsed.TotalSeconds;
        if (wal.SegmentCount > 4)
        {
            wal.ReleaseUpTo(wal.LastIndex, 1);
        }
    }

    public void Dispose()
    {
        wal.Dispose();
        Directory.Delete(dir, recursive: true);
    }
}
