using System.Diagnostics;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Bench.Storage;

/// <summary>
/// The raw limit for one case: write(n bytes) + fdatasync at increasing offsets of a preallocated file, run in slices
/// interleaved with the WAL's. A file that fills up is replaced by a fresh preallocated one between slices (untimed),
/// so every timed write lands on preallocated, never-written space, as the WAL's do.
/// </summary>
internal sealed class RawLoop(string dir, int writeBytes) : IDisposable
{
    private const long FileSize = 1L << 30;
    private readonly string path = Path.Combine(dir, "raw-loop.dat");
    private readonly byte[] block = Block(writeBytes);
    private IFileHandle? file;
    private long offset;

    public long Syncs { get; private set; }

    public double Seconds { get; private set; }

    public void RunFor(TimeSpan duration)
    {
        if (this.file is null || offset + writeBytes > FileSize)
        {
            Fresh();
        }

        var file = this.file!;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration && offset + writeBytes <= FileSize)
        {
            file.WriteAt(offset, block);
            file.DataSync();
            offset += writeBytes;
            Syncs++;
        }

        Seconds += sw.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        file?.Dispose();
        File.Delete(path);
    }

    private void Fresh()
    {
        file?.Dispose();
        File.Delete(path);
        file = RealFileSystem.Instance.Open(path, OpenMode.CreateNew);
        file.Preallocate(FileSize);
        file.DataSync();
        RealFileSystem.Instance.SyncDirectory(dir);
        offset = 0;
    }

    private static byte[] Block(int n)
    {
        var block = new byte[n];
        Array.Fill(block, (byte)0x5A);
        return block;
    }
}
