using System.Globalization;
using Bulwark.Bench.Storage;

// Usage: dotnet run --project bench/Bulwark.Bench.Storage -c Release -- [directory on the disk to test] [seconds per case]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var root = args.Length > 0 ? args[0] : Path.GetTempPath();
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3.0;
var duration = TimeSpan.FromSeconds(seconds);
var dir = Path.Combine(root, "bulwark-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine($"Bulwark WAL benchmark in {dir}, {seconds}s per case, {Environment.ProcessorCount} cores, {Environment.OSVersion}");

    // Warm up the JIT and the file system on a short run first.
    WalRun.Run(dir, 100, 16, TimeSpan.FromSeconds(0.5));

    var rawSync = RawDisk.SyncRate(dir, 136, duration); // 136 bytes: one 100-byte entry as a WAL record
    var rawSeq = RawDisk.SequentialMBps(dir, 4 << 20, 512L << 20);
    Console.WriteLine($"raw: write(136 B)+fdatasync = {rawSync:F0}/s; sequential 4 MiB writes + fdatasync = {rawSeq:F1} MB/s");
    Console.WriteLine();
    Console.WriteLine("| entry | batch | appends/s | syncs/s | MB/s | vs raw | target |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|---|");
    foreach (var size in new[] { 100, 4096 })
    {
        foreach (var batch in new[] { 1, 16, 256 })
        {
            var r = WalRun.Run(dir, size, batch, duration);
            string ratio;
            string target;
            if (batch == 1)
            {
                var x = r.SyncsPerSecond / rawSync;
                ratio = $"{x:P0} of fdatasync rate";
                target = x >= 0.9 ? "met (>= 90%)" : "MISSED (< 90%)";
            }
            else
            {
                var x = r.MBps / rawSeq;
                ratio = $"{x:P0} of sequential MB/s";
                target = batch == 256 ? (x >= 0.8 ? "met (>= 80%)" : "MISSED (< 80%)") : "-";
            }

            Console.WriteLine($"| {size} B | {batch} | {r.AppendsPerSecond:F0} | {r.SyncsPerSecond:F0} | {r.MBps:F1} | {ratio} | {target} |");
        }
    }
}
finally
{
    Directory.Delete(dir, recursive: true);
}
