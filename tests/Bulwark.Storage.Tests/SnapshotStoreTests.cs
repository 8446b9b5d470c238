using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Snapshots;

namespace Bulwark.Storage.Tests;

public sealed class SnapshotStoreTests
{
    private static readonly ClusterConfig Config = ClusterConfig.Of(1, 2, 3) with
    {
        Learners = [4],
        OutgoingVoters = [1, 2, 5],
    };

    private static byte[] Data(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public void SaveThenLoadRoundTripsDataAndMetadata()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/n/snap");
        Assert.Null(store.LoadNewest());
        var data = Data(200_000, 1);
        store.Save(new SnapshotMetadata(10, 2, Config), data);
        fs.Crash();
        var loaded = SnapshotStore.Open(fs, "/n/snap").LoadNewest()!;
        Assert.Equal(10ul, loaded.Metadata.Index);
        Assert.Equal(2ul, loaded.Metadata.Term);
        Assert.Equal(Config, loaded.Metadata.Config);
        Assert.Equal(data, loaded.Data.ToArray());
    }

    [Fact]
    public void KeepsTheNewestK()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/snap", keep: 2);
        for (ulong i = 1; i <= 5; i++)
        {
            store.Save(new SnapshotMetadata(i * 10, 1, Config), Data(100, (int)i));
        }

        Assert.Equal([(50ul, 1ul), (40ul, 1ul)], store.List());
        Assert.Equal(Data(100, 5), store.LoadNewest()!.Data.ToArray());
    }

    [Fact]
    public void DeleteOlderThanKeepsTheGivenIndexAndNewerDurablyAndFileBytesFollows()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/snap", keep: 3);
        for (ulong i = 1; i <= 3; i++)
        {
            store.Save(new SnapshotMetadata(i * 10, 1, Config), Data(1000 * (int)i, (int)i));
        }

        var all = store.FileBytes();
        Assert.True(all > 6000, $"{all} bytes for 6000 bytes of data");
        Assert.Equal(2, store.DeleteOlderThan(30)); // 10 and 20 go
        Assert.Equal([(30ul, 1ul)], store.List());
        Assert.True(store.FileBytes() < all - 3000);
        Assert.Equal(0, store.DeleteOlderThan(30));

        fs.Crash(); // the deletions were made durable (directory fsync)
        var reopened = SnapshotStore.Open(fs, "/snap", keep: 3);
        Assert.Equal([(30ul, 1ul)], reopened.List());
        Assert.Equal(Data(3000, 3), reopened.LoadNewest()!.Data.ToArray());
    }

    [Fact]
    public void StreamedWriteAndReadInChunks()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/snap");
        var data = Data(300_001, 7);
        using (var writer = store.BeginWrite(new SnapshotMetadata(99, 3, Config)))
        {
            for (var at = 0; at < data.Length; at += 10_000)
            {
                writer.Write(data, at, Math.Min(10_000, data.Length - at));
            }

            writer.Commit();
        }

        using var reader = store.OpenNewest()!;
        Assert.Equal(data.Length, reader.DataLength);
        var copy = new MemoryStream();
        reader.CopyTo(copy, 4096);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public void AnUncommittedWriteLeavesNothingBehind()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/snap");
        store.Save(new SnapshotMetadata(5, 1, Config), Data(10, 1));
        using (var writer = store.BeginWrite(new SnapshotMetadata(9, 1, Config)))
        {
            writer.Write(Data(1000, 2));
        }

        Assert.Single(fs.ListFiles("/snap"));
        Assert.Equal(5ul, store.LoadNewest()!.Metadata.Index);
    }

    [Fact]
    public void CrashAtEveryFaultPointOfASnapshotWriteLeavesOldOrNewNeverDamaged()
    {
        var oldData = Data(5000, 1);
        var newData = Data(150_000, 2);
        void Workload(InMemoryFileSystem fs)
        {
            var store = SnapshotStore.Open(fs, "/snap", keep: 1);
            store.Save(new SnapshotMetadata(10, 1, Config), oldData);
            store.Save(new SnapshotMetadata(20, 2, Config), newData);
        }

        var clean = new InMemoryFileSystem();
        Workload(clean);
        for (long k = 1; k <= clean.FaultPoints; k++)
        {
            foreach (var mode in new[] { CrashMode.LoseUnsynced, CrashMode.RandomPrefix })
            {
                var fs = new InMemoryFileSystem((int)k) { CrashAtFaultPoint = k };
                var thrown = Record.Exception(() => Workload(fs));
                Assert.True(thrown is SimulatedCrashException, $"point {k}/{clean.FaultPoints}: {thrown}");
                fs.Crash(mode);
                var loaded = SnapshotStore.Open(fs, "/snap", keep: 1).LoadNewest();
                if (loaded is not null)
                {
                    var expected = loaded.Metadata.Index == 10 ? oldData : newData;
                    Assert.Equal(expected, loaded.Data.ToArray());
                }

                Assert.DoesNotContain(fs.ListFiles("/snap"), n => n.EndsWith(".tmp", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void BitFlipsAnywhereInASnapshotAreDetected()
    {
        var data = Data(3000, 3);
        var rng = new Random(11);
        for (var trial = 0; trial < 300; trial++)
        {
            var fs = new InMemoryFileSystem();
            var store = SnapshotStore.Open(fs, "/snap");
            store.Save(new SnapshotMetadata(42, 7, Config), data);
            var path = "/snap/" + fs.ListFiles("/snap")[0];
            var length = fs.ReadAllBytes(path).Length;
            var offset = rng.Next(length);
            fs.CorruptByte(path, offset, (byte)(1 << rng.Next(8)));
            var e = Assert.Throws<StorageCorruptionException>(() => store.LoadNewest());
            Assert.Equal(path, e.FilePath);

            // Streaming never reaches a clean end either.
            Assert.Throws<StorageCorruptionException>(() =>
            {
                using var reader = store.OpenNewest()!;
                reader.CopyTo(Stream.Null);
                _ = reader.Read(new byte[1], 0, 1);
            });
        }
    }

    [Fact]
    public void DiskFullDuringASnapshotFailsClearlyAndKeepsTheOldOne()
    {
        var fs = new InMemoryFileSystem();
        var store = SnapshotStore.Open(fs, "/snap");
        store.Save(new SnapshotMetadata(1, 1, Config), Data(100, 1));
        fs.CapacityBytes = fs.UsedBytes + 50_000;
        Assert.Throws<DiskFullException>(() => store.Save(new SnapshotMetadata(2, 1, Config), Data(200_000, 2)));
        Assert.Single(fs.ListFiles("/snap"));
        Assert.Equal(1ul, store.LoadNewest()!.Metadata.Index);
        fs.CapacityBytes = null;
        store.Save(new SnapshotMetadata(2, 1, Config), Data(200_000, 2));
        Assert.Equal(2ul, store.LoadNewest()!.Metadata.Index);
    }
}
