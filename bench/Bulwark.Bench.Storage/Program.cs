using System.Globalization;
using Bulwark.Bench.Storage;

// Usage: dotnet bench/Bulwark.Bench.Storage/bin/Release/net10.0/Bulwark.Bench.Storage.dll [directory on the disk to test] [seconds per case] [rounds] [segment MiB] [one case, e.g. 4096x256]
// Each case is measured next to the raw loop doing the same I/O (write of the same bytes + fdatasync), repeated for
// several rounds; medians are reported, because a shared virtual disk is noisy.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var root = args.Length > 0 ? args[0] : Path.GetTempPath();
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 2.0;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var segmentBytes = (args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 64) << 20;
var only = args.Length > 4 ? args[4] : null; // e.g. "4096x256" to run one case
var duration = TimeSpan.FromSeconds(seconds);
var dir = Path.Combine(root, "bulwark-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine($"Bulwark WAL benchmark in {dir}: {seconds}s per case, {rounds} rounds (medians), {Environment.ProcessorCount} cores, {Environment.OSVersion}");
    WalRun.Run(dir, 100, 16, TimeSpan.FromSeconds(0.5), segmentBytes); // JIT and file system warm-up

    var seq = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        seq.Add(RawDisk.SequentialMBps(dir, 4 << 20, 512L << 20));
    }

    var rawSeq = Median(seq);
    Console.WriteLine($"raw sequential bandwidth (4 MiB writes + fdatasync, preallocated file): {rawSeq:F1} MB/s");
    Console.WriteLine();
    Console.WriteLine("| entry | batch | WAL appends/s | WAL syncs/s | WAL MB/s | raw write+fdatasync/s (same bytes) | WAL vs raw loop | WAL MB/s vs 4 MiB sequential | target vs raw loop | ms per batch: Append / Sync |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    // The cases, plus 4 KiB x 1024 (4 MiB per sync, the sequential measurement's chunk) to show the WAL
    // against raw sequential bandwidth at the same bytes per fdatasync.
    foreach (var size in new[] { 100, 4096 })
    {
        foreach (var batch in size == 4096 ? new[] { 1, 16, 256, 1024 } : new[] { 1, 16, 256 })
        {
            if (only is not null && only != $"{size}x{batch}")
            {
                continue;
            }

            var bytesPerSync = batch * (16 + ((17 + size + 7) & ~7));
            var raws = new List<double>();
            var wals = new List<WalResult>();
            for (var r = 0; r < rounds; r++)
            {
                // Alternate which goes first: a throttled virtual disk favours whoever runs on fresh credits.
                if (r % 2 == 1)
                {
                    wals.Add(WalRun.Run(dir, size, batch, duration, segmentBytes));
                }

                raws.Add(RawDisk.SyncRate(dir, bytesPerSync, duration));
                if (r % 2 == 0)
                {
                    wals.Add(WalRun.Run(dir, size, batch, duration, segmentBytes));
                }
            }

            var raw = Median(raws);
            var wal = wals.OrderBy(w => w.SyncsPerSecond).ElementAt(wals.Count / 2);
            var vsRaw = wal.SyncsPerSecond / raw;
            var vsSeq = wal.MBps / rawSeq;
            // The raw limit is the plain write + fdatasync loop; for a batch it moves the same bytes per sync.
            var target = batch switch
            {
                1 => vsRaw >= 0.9 ? "met (>= 90%)" : "MISSED (< 90%)",
                256 => vsRaw >= 0.8 ? "met (>= 80%)" : "MISSED (< 80%)",
                1024 => vsSeq >= 0.8 ? "met (>= 80% of sequential)" : "MISSED (< 80% of sequential)",
                _ => "-",
            };
            Console.WriteLine($"| {size} B | {batch} | {wal.AppendsPerSecond:F0} | {wal.SyncsPerSecond:F0} | {wal.MBps:F1} | {raw:F0} | {vsRaw:P0} | {vsSeq:P0} | {target} | {wal.AppendMsPerBatch:F2} / {wal.SyncMsPerBatch:F2} |");
        }
    }
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
