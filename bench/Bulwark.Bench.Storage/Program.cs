using System.Globalization;
using Bulwark.Bench.Storage;

// Usage: dotnet bench/Bulwark.Bench.Storage/bin/Release/net10.0/Bulwark.Bench.Storage.dll [directory on the disk to test] [seconds per round and side] [rounds] [segment MiB] [one case, e.g. 4096x256]
// Each case is measured against the raw loop doing the same I/O (write of the same bytes + fdatasync), interleaved
// in 0.25 s slices; a round is [seconds] of each. The median of the per-round WAL/raw ratios and their spread are
// reported, because a shared virtual disk is noisy.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var root = args.Length > 0 ? args[0] : Path.GetTempPath();
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 2.0;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var segmentBytes = (args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 64) << 20;
var only = args.Length > 4 ? args[4] : null; // e.g. "4096x256" to run one case
var slice = TimeSpan.FromSeconds(0.25);
var slicesPerRound = Math.Max(1, (int)Math.Round(seconds / slice.TotalSeconds));
var dir = Path.Combine(root, "bulwark-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine($"Bulwark WAL benchmark in {dir}: {rounds} rounds per case of {seconds}s raw + {seconds}s WAL in interleaved {slice.TotalSeconds}s slices (medians), {Environment.ProcessorCount} cores, {Environment.OSVersion}");
    using (var warmUp = new WalLoop(dir, 100, 16, segmentBytes))
    {
        warmUp.RunFor(TimeSpan.FromSeconds(0.5)); // JIT and file system warm-up
    }

    var seq = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        seq.Add(RawDisk.SequentialMBps(dir, 4 << 20, 512L << 20));
    }

    var rawSeq = Median(seq);
    Console.WriteLine($"raw sequential bandwidth (4 MiB writes + fdatasync, preallocated file): {rawSeq:F1} MB/s");
    Console.WriteLine();
    Console.WriteLine("| entry | batch | WAL appends/s | WAL syncs/s | WAL MB/s | raw write+fdatasync/s (same bytes) | WAL vs raw loop: median (min-max of rounds) | WAL MB/s vs 4 MiB sequential | target | ms per batch: Append / Sync |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    // The cases, plus 4 KiB x 1024 (4 MiB per sync: its raw loop is the sequential measurement's 4 MiB write +
    // fdatasync, run next to it) to show the WAL against raw sequential bandwidth at the same bytes per fdatasync.
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
            var ratios = new List<double>();
            using (var rawLoop = new RawLoop(dir, bytesPerSync))
            using (var walLoop = new WalLoop(dir, size, batch, segmentBytes))
            {
                for (var r = 0; r < rounds; r++)
                {
                    // A round alternates short slices of the raw loop and the WAL (swapping which goes first), so both
                    // see the same moments of a shared, throttled disk; its ratio compares the two over the round.
                    var raw0 = (rawLoop.Syncs, rawLoop.Seconds);
                    var wal0 = WalResult.Of(walLoop);
                    for (var s = 0; s < slicesPerRound; s++)
                    {
                        if (s % 2 == 0)
                        {
                            rawLoop.RunFor(slice);
                            walLoop.RunFor(slice);
                        }
                        else
                        {
                            walLoop.RunFor(slice);
                            rawLoop.RunFor(slice);
                        }
                    }

                    var raw = (rawLoop.Syncs - raw0.Syncs) / (rawLoop.Seconds - raw0.Seconds);
                    var wal = WalResult.Of(walLoop).Minus(wal0);
                    raws.Add(raw);
                    wals.Add(wal);
                    ratios.Add(wal.SyncsPerSecond / raw);
                }
            }

            var medianWal = wals.OrderBy(w => w.SyncsPerSecond).ElementAt(wals.Count / 2);
            var vsRaw = Median(ratios);
            var vsSeq = medianWal.MBps / rawSeq;
            // The raw limit is the plain write + fdatasync loop; for a batch it moves the same bytes per sync,
            // and at 4 MiB per sync it is the raw sequential bandwidth.
            var target = batch switch
            {
                1 => vsRaw >= 0.9 ? "met (>= 90%)" : "MISSED (< 90%)",
                256 or 1024 => vsRaw >= 0.8 ? "met (>= 80%)" : "MISSED (< 80%)",
                _ => "-",
            };
            Console.WriteLine($"| {size} B | {batch} | {medianWal.AppendsPerSecond:F0} | {medianWal.SyncsPerSecond:F0} | {medianWal.MBps:F1} | {Median(raws):F0} | {vsRaw:P0} ({ratios.Min():P0}-{ratios.Max():P0}) | {vsSeq:P0} | {target} | {medianWal.AppendMsPerBatch:F2} / {medianWal.SyncMsPerBatch:F2} |");
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
