using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

public sealed class WalBasicTests
{
    private static readonly WalOptions Small = new() { SegmentSize = 4096, WriteBufferSize = 4096 };

    [Fact]
    public void EmptyDirectoryOpensEmpty()
    {
        var fs = new InMemoryFileSystem();
        var (log, rec) = WriteAheadLog.Open(fs, "/data/wal", Small);
        Assert.Empty(rec.Entries);
        Assert.True(rec.HardState.IsEmpty);
        Assert.Equal(0ul, log.LastIndex);
        Assert.Equal(1ul, log.FirstIndex);
        Assert.Null(rec.TornTail);
    }

    [Fact]
    public void SyncedEntriesAndHardStateSurviveACrash()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        var entries = TestEntries.Range(1, 100, 1, 50);
        log.Append(entries);
        log.SaveHardState(new HardState(1, 2, 50));
        Assert.Equal(100ul, log.Sync());
        Assert.True(log.SegmentCount > 1);
        fs.Crash();
        var (log2, rec) = WriteAheadLog.Open(fs, "/wal", Small);
        TestEntries.AssertSame(entries, rec.Entries);
        Assert.Equal(new HardState(1, 2, 50), rec.HardState);
        Assert.Equal(100ul, log2.LastIndex);
    }

    [Fact]
    public void UnsyncedAppendsAreLostOnCrash()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        log.Append(TestEntries.Range(1, 5, 1));
        log.Sync();
        log.Append(TestEntries.Range(6, 8, 1));
        fs.Crash();
        var (_, rec) = WriteAheadLog.Open(fs, "/wal", Small);
        TestEntries.AssertSame(TestEntries.Range(1, 5, 1), rec.Entries);
    }

    [Fact]
    public void ConflictingSuffixIsOverwritten()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        log.Append(TestEntries.Range(1, 10, 1));
        log.Sync();
        log.Append(TestEntries.Range(6, 7, 2, salt: 9));
        Assert.Equal(7ul, log.LastIndex);
        Assert.Equal(5ul, log.DurableIndex);
        log.Sync();
        fs.Crash();
        var (_, rec) = WriteAheadLog.Open(fs, "/wal", Small);
        TestEntries.AssertSame([.. TestEntries.Range(1, 5, 1), .. TestEntries.Range(6, 7, 2, salt: 9)], rec.Entries);
    }

    [Fact]
    public void ReleaseDropsOldSegmentsAndKeepsTheRest()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        log.Append(TestEntries.Range(1, 200, 1, 40));
        log.SaveHardState(new HardState(1, 1, 150));
        log.Sync();
        var before = log.SegmentCount;
        log.ReleaseUpTo(150, 1);
        Assert.True(log.SegmentCount < before);
        Assert.Equal(151ul, log.FirstIndex);
        fs.Crash();
        var (log2, rec) = WriteAheadLog.Open(fs, "/wal", Small);
        Assert.Equal(150ul, rec.SnapshotIndex);
        Assert.Equal(1ul, rec.SnapshotTerm);
        TestEntries.AssertSame(TestEntries.Range(151, 200, 1, 40), rec.Entries);
        Assert.Equal(new HardState(1, 1, 150), rec.HardState);
        Assert.Equal(200ul, log2.LastIndex);
    }

    [Fact]
    public void ReleaseBeyondTheLogOrWithAnotherTermDropsEverything()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        log.Append(TestEntries.Range(1, 20, 1));
        log.ReleaseUpTo(10, 3);
        Assert.Equal(10ul, log.LastIndex);
        log.Append(TestEntries.Range(11, 12, 3));
        log.Sync();
        fs.Crash();
        var (_, rec) = WriteAheadLog.Open(fs, "/wal", Small);
        TestEntries.AssertSame(TestEntries.Range(11, 12, 3), rec.Entries);
        Assert.Equal(10ul, rec.SnapshotIndex);
    }

    [Fact]
    public void BadAppendsAreRejectedClearly()
    {
        var fs = new InMemoryFileSystem();
        var (log, _) = WriteAheadLog.Open(fs, "/wal", Small);
        log.Append(TestEntries.Range(1, 3, 2));
        Assert.Contains("gap", Assert.Throws<ArgumentException>(() => log.Append([TestEntries.Make(5, 2)])).Message);
        Assert.Contains("term", Assert.Throws<ArgumentException>(() => log.Append([TestEntries.Make(4, 1)])).Message);
        Assert.Contains("contiguous", Assert.Throws<ArgumentException>(() => log.Append([TestEntries.Make(4, 2), TestEntries.Make(6, 2)])).Message);
    }
}
