using System.Diagnostics;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Bench.Storage;

/// <summary>The disk's own limits, measured the plain way through the same file system seam the WAL uses.</summary>
internal static class RawDisk
{
    /// <summary>Sequential writes of <paramref name="chunk"/> bytes, fdatasync after each, on a preallocated file; MB/s.</summary>
    public static double SequentialMBps(string dir, int chunk, long totalBytes)
    {
        var path = Path.Combine(dir, "raw-seq.dat");
        using var file = RealFileSystem.Instance.Open(path, OpenMode.CreateNew);
        file.Preallocate(totalBytes);
        file.DataSync();
        RealFileSystem.Instance.SyncDirectory(dir);
        var block = new byte[chunk];
        new Random(1).NextBytes(block);
        var sw = Stopwatch.StartNew();
        for (long offset = 0; offset + chunk <= totalBytes; offset += chunk)
        {
            file.WriteAt(offset, block);
            file.DataSync();
        }

        var mbps = totalBytes / 1e6 / sw.Elapsed.TotalSeconds;
        File.Delete(path);
        return mbps;
    }
}
