using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Snapshots;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

public sealed class RealFileSystemTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "bulwark-realfs-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void EveryOperationWorksOnTheRealDisk()
    {
        var fs = RealFileSystem.Instance;
        var sub = Path.Combine(dir, "a", "b");
        fs.CreateDirectory(sub);
        Assert.True(fs.DirectoryExists(sub));
        var path = Path.Combine(sub, "f.dat");
        using (var f = fs.Open(path, OpenMode.CreateNew))
        {
            f.Preallocate(1 << 20);
            Assert.Equal(1 << 20, f.Length);
            f.WriteAt(10, [1, 2, 3]);
            f.Append([9]);
            f.Flush();
            f.DataSync();
            var back = new byte[4];
            Assert.Equal(4, f.ReadAt(9, back));
            Assert.Equal(new byte[] { 0, 1, 2, 3 }, back);
            Assert.Equal((1 << 20) + 1, f.Length);
            f.Truncate(100);
            Assert.Equal(100, f.Length);
        }

        Assert.Throws<IOException>(() => fs.Open(path, OpenMode.CreateNew).Dispose());
        fs.SyncDirectory(sub);
        fs.Rename(path, Path.Combine(sub, "g.dat"));
        Assert.Equal(["g.dat"], fs.ListFiles(sub));
        fs.Delete(Path.Combine(sub, "g.dat"));
        fs.SyncDirectory(sub);
        Assert.Empty(fs.ListFiles(sub));
    }

    [Fact]
    public void WalAndSnapshotsRoundTripOnTheRealDisk()
    {
        var fs = RealFileSystem.Instance;
        var options = new WalOptions { SegmentSize = 64 * 1024 };
        var (wal, _) = WriteAheadLog.Open(fs, Path.Combine(dir, "wal"), options);
        var entries = TestEntries.Range(1, 500, 1, 300);
        wal.Append(entries);
        wal.Sync();
        wal.ReleaseUpTo(100, 1);
        wal.Dispose();
        var (again, rec) = WriteAheadLog.Open(fs, Path.Combine(dir, "wal"), options);
        again.Dispose();
        TestEntries.AssertSame(entries[100..], rec.Entries);

        var snaps = SnapshotStore.Open(fs, Path.Combine(dir, "snap"));
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        snaps.Save(new Consensus.SnapshotMetadata(100, 1, Consensus.ClusterConfig.Of(1, 2, 3)), data);
        Assert.Equal(data, SnapshotStore.Open(fs, Path.Combine(dir, "snap")).LoadNewest()!.Data.ToArray());
    }

    public void Dispose()
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
