using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

public sealed class FaultInjectingFileSystemTests
{
    private static readonly WalOptions Options = new() { SegmentSize = 8192, WriteBufferSize = 4096 };

    private readonly InMemoryFileSystem inner = new();
    private readonly FaultPoints points = new();
    private readonly List<TimeSpan> slept = [];
    private readonly FaultInjectingFileSystem fs;

    public FaultInjectingFileSystemTests()
    {
        fs = new FaultInjectingFileSystem(inner, points) { Sleep = slept.Add };
        fs.CreateDirectory("/d");
    }

    [Fact]
    public void WithEveryPointOffCallsPassThrough()
    {
        using (var file = fs.Open("/d/a", OpenMode.CreateNew))
        {
            file.Append([1, 2, 3]);
            file.WriteAt(3, [4]);
            file.Truncate(10);
            file.Preallocate(20);
            file.DataSync();
        }

        fs.SyncDirectory("/d");
        Assert.Empty(slept);
        Assert.Empty(points.Active());
        inner.Crash();
        using var reopened = inner.Open("/d/a", OpenMode.OpenExisting);
        Assert.Equal(20, reopened.Length);
    }

    [Fact]
    public void FsyncDelayWaitsBeforeEveryFileAndDirectorySyncAndStillSyncs()
    {
        points.SetFsyncDelay(TimeSpan.FromMilliseconds(50));
        using (var file = fs.Open("/d/a", OpenMode.CreateNew))
        {
            file.Append([1, 2, 3]);
            file.DataSync();
        }

        fs.SyncDirectory("/d");
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50)], slept);
        Assert.Equal([(FaultPoints.FsyncDelay, 50L)], points.Active());

        inner.Crash(); // the syncs really happened: the file and its contents survive
        using var reopened = inner.Open("/d/a", OpenMode.OpenExisting);
        Assert.Equal(3, reopened.Length);

        points.SetFsyncDelay(TimeSpan.Zero);
        fs.SyncDirectory("/d");
        Assert.Equal(2, slept.Count);
        Assert.Empty(points.Active());
    }

    [Fact]
    public void FsyncErrorFailsSyncsWithEioAndSyncsNothing()
    {
        using var file = fs.Open("/d/a", OpenMode.CreateNew);
        fs.SyncDirectory("/d");
        file.Append([1, 2, 3]);
        points.SetFsyncError(true);
        var e = Assert.Throws<IOException>(file.DataSync);
        Assert.Equal(FaultInjectingFileSystem.Eio, e.HResult);
        Assert.Contains("Input/output error", e.Message);
        Assert.Throws<IOException>(() => fs.SyncDirectory("/d"));

        inner.Crash();
        using var reopened = inner.Open("/d/a", OpenMode.OpenExisting);
        Assert.Equal(0, reopened.Length);
    }

    [Fact]
    public void DiskFullRefusesNewSpaceButNotWritesIntoAllocatedSpace()
    {
        using var file = fs.Open("/d/a", OpenMode.CreateNew);
        file.Preallocate(100);
        points.SetDiskFull(true);

        file.WriteAt(0, new byte[100]); // inside the reserved blocks
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => file.WriteAt(99, new byte[2]));
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => file.Append([1]));
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => file.Truncate(101));
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => file.Preallocate(200));
        var e = Assert.Throws<NoSpaceLeftOnDeviceException>(() => fs.Open("/d/b", OpenMode.CreateNew));
        Assert.Contains("No space left on device", e.Message);
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => fs.Open("/d/b", OpenMode.OpenOrCreate));
        Assert.Throws<NoSpaceLeftOnDeviceException>(() => fs.CreateDirectory("/d/e"));
        Assert.False(inner.FileExists("/d/b"));
        Assert.Equal(100, file.Length);

        file.Truncate(50); // shrinking frees space: allowed
        fs.Open("/d/a", OpenMode.OpenOrCreate).Dispose(); // opening an existing file needs no space
        Assert.Equal([(FaultPoints.DiskFull, 0L)], points.Active());

        points.SetDiskFull(false);
        file.Append([1]);
        Assert.Equal(51, file.Length);
    }

    [Fact]
    public void WalFailsStopOnAnInjectedFsyncErrorWithoutAcknowledging()
    {
        var (wal, _) = WriteAheadLog.Open(fs, "/wal", Options);
        wal.Append(TestEntries.Range(1, 5, 1));
        wal.Sync();
        wal.Append(TestEntries.Range(6, 8, 1));
        points.SetFsyncError(true);
        Assert.Throws<WalSyncFailedException>(() => wal.Sync());
        Assert.Equal(5ul, wal.DurableIndex);

        points.SetFsyncError(false); // the disk "recovers": the log must still refuse, never retry into uncertainty
        Assert.Throws<WalFailedException>(() => wal.Sync());
        wal.Dispose();
        inner.Crash();
        var (_, recovered) = WriteAheadLog.Open(inner, "/wal", Options);
        Assert.True(recovered.Entries.Count >= 5);
        TestEntries.AssertSame(TestEntries.Range(1, 5, 1), recovered.Entries.Take(5).ToList());
    }

    [Fact]
    public void WalKeepsWritingIntoItsPreallocatedSegmentAndReportsDiskFullAtTheNextSegment()
    {
        var (wal, _) = WriteAheadLog.Open(fs, "/wal", Options);
        points.SetDiskFull(true);
        wal.Append([TestEntries.Make(1, 1, 100)]);
        Assert.Equal(1ul, wal.Sync()); // room reserved before the disk filled

        DiskFullException? full = null;
        ulong next = 2;
        while (full is null && next < 1000)
        {
            try
            {
                wal.Append([TestEntries.Make(next, 1, 300)]);
                next++;
            }
            catch (DiskFullException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.Equal(next - 1, wal.Sync()); // what was accepted is still durable

        points.SetDiskFull(false);
        wal.Append([TestEntries.Make(next, 1, 300)]);
        Assert.Equal(next, wal.Sync());
    }
}
