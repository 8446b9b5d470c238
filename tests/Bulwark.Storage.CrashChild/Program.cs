using Bulwark.Consensus;
using Bulwark.Storage.CrashChild;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

// Usage: Bulwark.Storage.CrashChild <wal directory> <segment bytes>
// Appends forever (until killed): batches of entries, one Sync each, printing "durable <index>" after every Sync returns.
if (args.Length != 2 || !long.TryParse(args[1], out var segmentSize))
{
    Console.Error.WriteLine("usage: Bulwark.Storage.CrashChild <wal directory> <segment bytes>");
    return 2;
}

var (wal, recovery) = WriteAheadLog.Open(RealFileSystem.Instance, args[0], new WalOptions { SegmentSize = segmentSize });
var stdout = Console.Out;
stdout.WriteLine($"recovered {recovery.LastIndex}");
stdout.Flush();
var next = wal.LastIndex + 1;
while (true)
{
    var batch = new Entry[ChildWorkload.BatchSize(next)];
    for (var i = 0; i < batch.Length; i++)
    {
        batch[i] = ChildWorkload.MakeEntry(next + (ulong)i);
    }

    wal.Append(batch);
    next += (ulong)batch.Length;
    var durable = wal.Sync();
    stdout.WriteLine($"durable {durable}");
    stdout.Flush();
}
