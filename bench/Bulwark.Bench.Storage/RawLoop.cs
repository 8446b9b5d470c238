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
    private readonly string _path = Path.Combine(dir, "raw-loop.dat");
    private readonly byte[] _block = Block(writeBytes);
    private IFileHandle? _file;
    private long _offset;

    public long Syncs { get; private set; }

    public double Seconds { get; private set; }

    public void RunFor(TimeSpan duration)
    {
        if (_file is null || _offset + writeBytes > FileSize)
        {
            Fresh();
        }

        var file = _file!;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < duration && _offset + writeBytes <= FileSize)
        {
            file.WriteAt(_offset, _block);
            file.DataSync();
            _offset += writeBytes;
            Syncs++;
        }

        Seconds += sw.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        _file?.Dispose();
        File.Delete(_path);
    }

    private void Fresh()
    {
        _file?.Dispose();
        File.Delete(_path);
        _file = RealFileSystem.Instance.Open(_path, OpenMode.CreateNew);
        _file.Preallocate(FileSize);
        _file.DataSync();
        RealFileSystem.Instance.SyncDirectory(dir);
        _offset = 0;
    }

    private static byte[] Block(int n)
    {
        var block = new byte[n];
        Array.Fill(block, (byte)0x5A);
        return block;
    }
}
