using System.Diagnostics;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Bench.Storage;

/// <summary>The disk's own limits, measured the plain way through the same file system seam the WAL uses.</summary>
internal static class RawDisk
{
    /// <summary>write(n bytes) + fdatasync in a loop at increasing offsets of a preallocated file; returns syncs per second.</summary>
    public static double SyncRate(string dir, int writeBytes, TimeSpan duration)
    {
        var path = Path.Combine(dir, "raw-sync.dat");
        const long size = 1L << 30;
        using var file = RealFileSystem.Instance.Open(path, OpenMode.CreateNew);
        file.Preallocate(size);
        file.DataSync();
        RealFileSystem.Instance.SyncDirectory(dir);
        var block = new byte[writeBytes];
        Array.Fill(block, (byte)0x5A);
        long offset = 0;
        var n = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration && offset + writeBytes < size)
        {
            file.WriteAt(offset, block);
            file.DataSync();
            offset += writeBytes;
            n++;
        }

        var rate = n / sw.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }

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
