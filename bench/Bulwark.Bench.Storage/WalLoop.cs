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
    private readonly string _dir;
    private readonly WriteAheadLog _wal;
    private readonly byte[] _data;
    private readonly Entry[] _entries;
    private ulong _next = 1;
    private long _appendTicks;
    private long _syncTicks;

    public WalLoop(string dir, int entryBytes, int batch, long segmentBytes)
    {
        _dir = Path.Combine(dir, $"wal-{entryBytes}-{batch}");
        (_wal, _) = WriteAheadLog.Open(RealFileSystem.Instance, _dir, new WalOptions { SegmentSize = segmentBytes });
        EntryBytes = entryBytes;
        _data = new byte[entryBytes];
        new Random(2).NextBytes(_data);
        _entries = new Entry[batch];
    }

    public int EntryBytes { get; }

    public long Appended { get; private set; }

    public long Syncs { get; private set; }

    public double Seconds { get; private set; }

    public double AppendMsPerBatch => _appendTicks * 1000.0 / Stopwatch.Frequency / Math.Max(1, Syncs);

    public double SyncMsPerBatch => _syncTicks * 1000.0 / Stopwatch.Frequency / Math.Max(1, Syncs);

    public void RunFor(TimeSpan duration)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration)
        {
            for (var i = 0; i < _entries.Length; i++)
            {
                _entries[i] = new Entry(1, _next++, EntryType.Normal, _data);
            }

            var t0 = Stopwatch.GetTimestamp();
            _wal.Append(_entries);
            var t1 = Stopwatch.GetTimestamp();
            _wal.Sync();
            _syncTicks += Stopwatch.GetTimestamp() - t1;
            _appendTicks += t1 - t0;
            Appended += _entries.Length;
            Syncs++;
        }

        Seconds += sw.Elapsed.TotalSeconds;
        if (_wal.SegmentCount > 4)
        {
            _wal.ReleaseUpTo(_wal.LastIndex, 1);
        }
    }

    public void Dispose()
    {
        _wal.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
