using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

public sealed class WalCorruptionTests
{
    private static readonly WalOptions Options = new() { SegmentSize = 8192, WriteBufferSize = 4096 };

    private static (InMemoryFileSystem Fs, List<Entry> Entries) Build()
    {
        var fs = new InMemoryFileSystem();
        var (wal, _) = WriteAheadLog.Open(fs, "/wal", Options);
        var entries = new List<Entry>();
        var rng = new Random(5);
        for (ulong i = 1; i <= 120; i++)
        {
            var e = TestEntries.Make(i, 1 + i / 40, rng.Next(0, 200));
            entries.Add(e);
            wal.Append([e]);
            if (i % 7 == 0)
            {
                wal.SaveHardState(new HardState(1 + i / 40, 1, i - 3));
                wal.Sync();
            }
        }

        wal.Sync();
        wal.Dispose();
        return (fs, entries);
    }

    /// <summary>Offset just past the last record of a segment.</summary>
    private static long EndOfData(byte[] bytes)
    {
        var last = bytes.AsSpan().LastIndexOfAnyExcept((byte)0);
        return last + 1;
    }

    [Fact]
    public void RandomBitFlipsInSegmentsAreDetectedAndNeverReturnedAsData()
    {
        var (template, entries) = Build();
        var files = template.ListFiles("/wal");
        Assert.True(files.Count >= 3, "need several segments");
        var rng = new Random(99);
        var detected = 0;
        for (var trial = 0; trial < 400; trial++)
        {
            var (fs, _) = Build();
            var name = files[rng.Next(files.Count)];
            var path = "/wal/" + name;
            var bytes = fs.ReadAllBytes(path);
            var end = EndOfData(bytes);
            var isLast = name == files[^1];
            var offset = rng.NextInt64(end);
            fs.CorruptByte(path, offset, (byte)(1 << rng.Next(8)));
            try
            {
                var (wal, rec) = WriteAheadLog.Open(fs, "/wal", Options);
                wal.Dispose();

                // Accepted only as a cut tail of the last segment, reported as such, with every entry returned intact.
                Assert.True(isLast, $"flip at {name}:{offset} in a non-final segment was not detected");
                Assert.NotNull(rec.TornTail);
                Assert.True(rec.Entries.Count <= entries.Count);
                for (var i = 0; i < rec.Entries.Count; i++)
                {
                    Assert.True(TestEntries.SameEntry(entries[i], rec.Entries[i]), $"entry {i + 1} came back altered");
                }

                Assert.True(rec.Entries.Count < entries.Count || rec.HardState != new HardState(4, 1, 116),
                    "the flipped record must not be returned");
                detected++;
            }
            catch (StorageCorruptionException e)
            {
                Assert.Equal(path, e.FilePath);
                Assert.InRange(e.Offset, 0, end);
                detected++;
            }
        }

        Assert.Equal(400, detected);
    }

    [Fact]
    public void CorruptionInTheMiddleNamesFileAndOffset()
    {
        var (fs, _) = Build();
        var first = "/wal/" + fs.ListFiles("/wal")[0];
        fs.CorruptByte(first, 200, 0x10);
        var e = Assert.Throws<StorageCorruptionException>(() => WriteAheadLog.Open(fs, "/wal", Options));
        Assert.Equal(first, e.FilePath);
        Assert.Contains(first, e.Message);
        Assert.Contains("offset", e.Message);
    }

    [Fact]
    public void AMissingSegmentIsCorruption()
    {
        var (fs, _) = Build();
        var files = fs.ListFiles("/wal");
        fs.Delete("/wal/" + files[1]);
        Assert.Throws<StorageCorruptionException>(() => WriteAheadLog.Open(fs, "/wal", Options));
    }

    [Fact]
    public void AnOldSegmentWhoseDeletionWasLostIsIgnoredAndRemoved()
    {
        // Deletions of released segments may reach the disk in any order after a power loss.
        var fs = new InMemoryFileSystem();
        var (wal, _) = WriteAheadLog.Open(fs, "/wal", Options);
        var entries = TestEntries.Range(1, 200, 1, 150);
        for (var i = 0; i < entries.Length; i += 10)
        {
            wal.Append(entries.AsSpan(i, 10));
        }

        wal.SaveHardState(new HardState(1, 1, 180));
        wal.Sync();
        var firstName = fs.ListFiles("/wal")[0];
        var firstBytes = fs.ReadAllBytes("/wal/" + firstName);
        wal.ReleaseUpTo(150, 1);
        wal.Dispose();
        Assert.DoesNotContain(firstName, fs.ListFiles("/wal"));
        Assert.DoesNotContain(fs.ListFiles("/wal"), n => n.StartsWith("0000000000000002-", StringComparison.Ordinal));

        using (var resurrected = fs.Open("/wal/" + firstName, OpenMode.CreateNew))
        {
            resurrected.WriteAt(0, firstBytes);
            resurrected.DataSync();
        }

        fs.SyncDirectory("/wal");
        var (reopened, rec) = WriteAheadLog.Open(fs, "/wal", Options);
        reopened.Dispose();
        Assert.Equal(150ul, rec.SnapshotIndex);
        TestEntries.AssertSame(entries[150..], rec.Entries);
        Assert.Equal(new HardState(1, 1, 180), rec.HardState);
        Assert.DoesNotContain(firstName, fs.ListFiles("/wal"));
    }
}
