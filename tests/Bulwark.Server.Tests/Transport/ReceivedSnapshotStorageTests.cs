using Bulwark.Consensus;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Tests.Transport;

/// <summary>How a node stores a snapshot streamed to it (<see cref="NodeSnapshotFiles"/>) and installs it from disk.</summary>
public sealed class ReceivedSnapshotStorageTests
{
    private static readonly SnapshotMetadata Metadata = new(40, 3, ClusterConfig.Of(1, 2, 3));

    [Fact]
    public void A_receive_cut_short_by_a_process_death_leaves_nothing_after_the_restart()
    {
        var fs = new InMemoryFileSystem();
        using (var storage = NodeStorage.Open(fs, "/n"))
        {
            var incoming = new NodeSnapshotFiles(storage).BeginReceiving(Metadata, 10_000);
            incoming.Write(new byte[5000]);
            Assert.NotEmpty(fs.ListFiles("/n/snap"));
            // The process dies here: the transfer is neither committed nor disposed, so its temporary file stays.
        }

        Assert.NotEmpty(fs.ListFiles("/n/snap"));

        using var restarted = NodeStorage.Open(fs, "/n");
        Assert.Empty(fs.ListFiles("/n/snap"));
        Assert.Null(restarted.NewestSnapshot);
    }

    [Fact]
    public void A_connection_lost_mid_transfer_removes_the_temporary_file()
    {
        var fs = new InMemoryFileSystem();
        using var storage = NodeStorage.Open(fs, "/n");
        using (var incoming = new NodeSnapshotFiles(storage).BeginReceiving(Metadata, 10_000))
        {
            incoming.Write(new byte[5000]);
        }

        Assert.Empty(fs.ListFiles("/n/snap"));
        Assert.False(storage.HasSnapshot(Metadata.Index, Metadata.Term));
    }

    [Fact]
    public void Installing_a_received_snapshot_only_releases_the_log_and_an_absent_one_is_refused()
    {
        var fs = new InMemoryFileSystem();
        using var storage = NodeStorage.Open(fs, "/n");
        var announced = new Snapshot(Metadata, ReadOnlyMemory<byte>.Empty);
        Assert.Throws<InvalidOperationException>(() => storage.SaveSnapshot(announced));

        using (var incoming = new NodeSnapshotFiles(storage).BeginReceiving(Metadata, 3))
        {
            incoming.Write([1, 2, 3]);
            Assert.True(incoming.Commit()!.Value.IsEmpty, "durable on disk: delivered with empty data");
        }

        Assert.Equal(Metadata, storage.NewestSnapshot);
        var files = fs.ListFiles("/n/snap");
        storage.SaveSnapshot(announced);
        Assert.Equal(files, fs.ListFiles("/n/snap"));
        Assert.Equal(Metadata.Index, storage.Wal.SnapshotIndex);
        using var reader = storage.OpenSnapshot(Metadata.Index, Metadata.Term);
        Assert.Equal(new byte[] { 1, 2, 3 }, reader.ReadAllData());
    }

    [Fact]
    public void A_snapshot_the_node_already_passed_is_not_written()
    {
        var fs = new InMemoryFileSystem();
        using var storage = NodeStorage.Open(fs, "/n");
        storage.ReleaseLogUpTo(Metadata.Index + 10, Metadata.Term);
        using (var incoming = new NodeSnapshotFiles(storage).BeginReceiving(Metadata, 3))
        {
            incoming.Write([1, 2, 3]);
            Assert.True(incoming.Commit()!.Value.IsEmpty, "delivered, so the core answers with its commit index");
        }

        Assert.Empty(fs.ListFiles("/n/snap"));
        Assert.Null(storage.NewestSnapshot);
    }

    [Fact]
    public void After_a_full_disk_snapshots_are_refused_at_once_for_a_cooldown()
    {
        var fs = new InMemoryFileSystem();
        using var storage = NodeStorage.Open(fs, "/n");
        var clock = new ManualClock();
        var files = new NodeSnapshotFiles(storage, clock);
        fs.CapacityBytes = fs.UsedBytes + 1000;
        using (var incoming = files.BeginReceiving(Metadata, 100_000))
        {
            Assert.Throws<Bulwark.Storage.DiskFullException>(() => incoming.Write(new byte[100_000]));
        }

        Assert.Empty(fs.ListFiles("/n/snap"));
        fs.CapacityBytes = null;
        Assert.Throws<IOException>(() => files.BeginReceiving(Metadata, 3)); // the leader's next attempt: refused before any write
        clock.Advance(NodeSnapshotFiles.DiskFullCooldown);
        using var retried = files.BeginReceiving(Metadata, 3);
        retried.Write([1, 2, 3]);
        Assert.True(retried.Commit()!.Value.IsEmpty);
    }

    [Fact]
    public void A_node_restarted_after_receiving_a_snapshot_its_core_never_took_starts_from_it_and_logs_after_it()
    {
        var fs = new InMemoryFileSystem();
        using (var storage = NodeStorage.Open(fs, "/n"))
        {
            storage.Wal.Append(Enumerable.Range(1, 5).Select(i => new Entry(1, (ulong)i, EntryType.Normal, new byte[] { 1 })).ToArray());
            storage.Wal.SaveHardState(new HardState(1, 0, 5));
            storage.Wal.Sync();
            using var incoming = new NodeSnapshotFiles(storage).BeginReceiving(Metadata, 3);
            incoming.Write([1, 2, 3]);
            incoming.Commit();
            // The process stops before the core got the InstallSnapshot message (or the core turned it down).
        }

        using var restarted = NodeStorage.Open(fs, "/n");
        var state = restarted.BuildRaftState(ClusterConfig.Of(1, 2, 3));
        Assert.Equal(Metadata, state.Snapshot);
        Assert.Empty(state.Entries);
        Assert.Equal(Metadata.Index, state.HardState.Commit);

        // The leader then sends the entries after the snapshot: the log must take them (it ended at 5 before).
        restarted.Wal.Append([new Entry(3, Metadata.Index + 1, EntryType.Normal, new byte[] { 2 })]);
        Assert.Equal(Metadata.Index + 1, restarted.Wal.LastIndex);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
