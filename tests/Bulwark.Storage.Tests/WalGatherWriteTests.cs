using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

/// <summary>Large batches are written by a gather write from the entries' own buffers; the bytes on disk must not change.</summary>
public sealed class WalGatherWriteTests
{
    private const string Dir = "/node/wal";

    [Theory]
    [InlineData(512, 16)]
    [InlineData(4096, 64)]
    [InlineData(1001, 9)] // odd sizes: every padding length
    public void GatheredBatchesWriteTheSameBytesAsBufferedOnes(int entryBytes, int batch)
    {
        // A write buffer larger than any batch keeps every batch on the copying path; 4 KiB sends these to gathering.
        var buffered = Write(new WalOptions { SegmentSize = 1 << 20, WriteBufferSize = 64 << 20 }, entryBytes, batch);
        var gathered = Write(new WalOptions { SegmentSize = 1 << 20, WriteBufferSize = 4096 }, entryBytes, batch);
        Assert.Equal(buffered.Count, gathered.Count);
        for (var i = 0; i < buffered.Count; i++)
        {
            Assert.Equal(buffered[i].Name, gathered[i].Name);
            Assert.True(buffered[i].Bytes.AsSpan().SequenceEqual(gathered[i].Bytes), $"segment {buffered[i].Name} differs");
        }
    }

    [Fact]
    public void GatheredBatchesReadBackAfterACrash()
    {
        var fs = new InMemoryFileSystem(3);
        var options = new WalOptions { SegmentSize = 64 << 10, WriteBufferSize = 4096 };
        var (wal, _) = WriteAheadLog.Open(fs, Dir, options);
        var all = new List<Entry>();
        ulong next = 1;
        for (var round = 0; round < 12; round++)
        {
            wal.SaveHardState(new HardState(1, 1, next - 1)); // buffered before the gathered batch, written with it
            var batch = TestEntries.Range(next, next + 20, 1, size: 700 + round, salt: round);
            wal.Append(batch);
            wal.Sync();
            all.AddRange(batch);
            next += 21;
        }

        Assert.True(wal.SegmentCount > 1, "the batches should have rolled over segments");
        wal.Dispose();
        fs.Crash(CrashMode.LoseUnsynced);
        var (again, recovered) = WriteAheadLog.Open(fs, Dir, options);
        again.Dispose();
        TestEntries.AssertSame(all, recovered.Entries);
        Assert.Equal(new HardState(1, 1, next - 22), recovered.HardState);
    }

    private static List<(string Name, byte[] Bytes)> Write(WalOptions options, int entryBytes, int batch)
    {
        var fs = new InMemoryFileSystem(1);
        var (wal, _) = WriteAheadLog.Open(fs, Dir, options);
        ulong next = 1;
        for (var round = 0; round < 5; round++)
        {
            wal.SaveHardState(new HardState((ulong)round + 1, 1, next - 1));
            wal.Append(TestEntries.Range(next, next + (ulong)batch - 1, (ulong)round + 1, entryBytes, salt: round));
            wal.Sync();
            next += (ulong)batch;
        }

        wal.Dispose();
        return [.. fs.ListFiles(Dir).Select(name => (name, fs.ReadAllBytes(Dir + "/" + name)))];
    }
}
