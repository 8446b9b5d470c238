using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

/// <summary>
/// Opening a WAL whose segment is preallocated (64 MiB by default) but holds a few MiB of records, on the real file
/// system: issue 15's restarted member spent ~0.6 s of CPU reading all of it into one new array before it logged a
/// line. The scan keeps only the data; records that end in zeros past the data still read back exactly.
/// </summary>
public sealed class WalPreallocatedSegmentTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-wal-prealloc-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Opening_a_mostly_empty_preallocated_segment_does_not_allocate_the_whole_segment()
    {
        var wal = Path.Combine(dir, "wal");
        var (log, _) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        var entries = TestEntries.Range(1, 2000, 1, size: 300);
        log.Append(entries);
        log.SaveHardState(new HardState(1, 0, 2000));
        log.Sync();
        log.Dispose();
        Assert.Equal(WalOptions.DefaultSegmentSize, new FileInfo(Directory.GetFiles(wal).Single()).Length);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var (reopened, recovery) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        reopened.Dispose();

        TestEntries.AssertSame(entries, recovery.Entries);
        Assert.Null(recovery.TornTail);
        // About 0.7 MiB of records (kept) and their decoded entries, one 1 MiB read buffer: far from the 64 MiB the
        // whole segment took before.
        Assert.True(allocated < 16L << 20, $"opening allocated {allocated >> 20} MiB for {WalOptions.DefaultSegmentSize >> 20} MiB segment holding 0.7 MiB of records");
    }

    [Fact]
    public void An_entry_ending_in_megabytes_of_zeros_past_the_last_data_reads_back_whole()
    {
        // Its payload's zeros run beyond the last chunk that holds a non-zero byte: the scan must still see the record
        // whole (zeros are what the rest of the file holds), not as one running past the end of the segment.
        var wal = Path.Combine(dir, "wal");
        var (log, _) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        var data = new byte[3 * SegmentScanner.ReadChunkBytes + 123];
        data[0] = 7;
        var entries = new[] { TestEntries.Make(1, 1), new Entry(1, 2, EntryType.Normal, data) };
        log.Append(entries);
        log.SaveHardState(new HardState(1, 0, 2));
        log.Sync();
        log.Dispose();

        var (reopened, recovery) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        reopened.Dispose();
        TestEntries.AssertSame(entries, recovery.Entries);
        Assert.Null(recovery.TornTail);
    }

    [Fact]
    public void Unsynced_data_after_a_hole_far_into_a_preallocated_segment_is_still_found_and_wiped()
    {
        var wal = Path.Combine(dir, "wal");
        var (log, _) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        var entries = TestEntries.Range(1, 10, 1);
        log.Append(entries);
        log.SaveHardState(new HardState(1, 0, 10));
        log.Sync();
        log.Dispose();
        var segment = Directory.GetFiles(wal).Single();
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = 40L << 20; // 40 MiB in: a stray write far behind the end of the log
            file.Write([1, 2, 3, 4, 5, 6, 7, 8]);
        }

        var (reopened, recovery) = WriteAheadLog.Open(RealFileSystem.Instance, wal);
        reopened.Dispose();
        TestEntries.AssertSame(entries, recovery.Entries);
        Assert.NotNull(recovery.TornTail);
        using var check = new FileStream(segment, FileMode.Open, FileAccess.Read);
        check.Position = 40L << 20;
        var back = new byte[8];
        check.ReadExactly(back);
        Assert.All(back, b => Assert.Equal(0, b)); // wiped before appending resumes
    }
}
