using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Snapshots;
using Bulwark.Storage.Wal;

namespace Bulwark.Simulation;

/// <summary>
/// An <see cref="ISimDisk"/> backed by the real storage code: Bulwark.Storage's <see cref="WriteAheadLog"/> and
/// <see cref="SnapshotStore"/> over its <see cref="InMemoryFileSystem"/>, whose crashes lose unsynced writes and
/// tear the last one. A <see cref="MemoryDisk"/> mirror answers the checkers' questions about the current log.
/// </summary>
public sealed class WalDisk : ISimDisk
{
    private readonly InMemoryFileSystem fs;
    private WriteAheadLog wal;
    private SnapshotStore snapshots;
    private MemoryDisk mirror;

    public WalDisk(int seed)
    {
        fs = new InMemoryFileSystem(seed);
        DiskImage recovered;
        (wal, snapshots, recovered) = OpenStores(fs);
        mirror = MemoryDisk.From(recovered);
    }

    public DiskImage Current => mirror.Current;

    public ulong TermAt(ulong index) => mirror.TermAt(index);

    public void InstallSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data)
    {
        // The snapshot file is made durable first; only then may the log release what it covers.
        snapshots.Save(metadata, data.Span);
        wal.ReleaseUpTo(metadata.Index, metadata.Term);
        mirror.InstallSnapshot(metadata, data);
    }

    public void SaveSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data)
    {
        snapshots.Save(metadata, data.Span);
        wal.ReleaseUpTo(metadata.Index, metadata.Term);
        mirror.SaveSnapshot(metadata, data);
    }

    public void Append(IReadOnlyList<Entry> entries)
    {
        wal.Append(entries.ToArray());
        mirror.Append(entries);
    }

    public void WriteHardState(HardState state)
    {
        wal.SaveHardState(state);
        mirror.WriteHardState(state);
    }

    public void Sync()
    {
        wal.Sync();
        mirror.Sync();
    }

    public void Crash(DeterministicRandom random, bool mayPersistUnsynced, bool mayTear)
    {
        var mode = !mayPersistUnsynced && !mayTear ? CrashMode.LoseUnsynced
            : random.Next(3) switch { 0 => CrashMode.LoseUnsynced, 1 => CrashMode.TearLastUnsynced, _ => CrashMode.RandomPrefix };
        fs.Crash(mode, new Random((int)(random.NextULong() & int.MaxValue)));
        DiskImage recovered;
        (wal, snapshots, recovered) = OpenStores(fs);
        mirror = MemoryDisk.From(recovered);
    }

    /// <summary>After a crash, what the storage code recovered; before any, what was synced (the mirror tracks it).</summary>
    public DiskImage Recover() => mirror.Recover();

    private static (WriteAheadLog, SnapshotStore, DiskImage) OpenStores(InMemoryFileSystem fs)
    {
        var (wal, recovery) = WriteAheadLog.Open(fs, "/wal", new WalOptions { SegmentSize = 64 * 1024 });
        var snapshots = SnapshotStore.Open(fs, "/snap", keep: 2);
        var snapshot = snapshots.LoadNewest();
        var metadata = snapshot?.Metadata;
        var floor = metadata?.Index ?? 0;
        // A crash between saving a snapshot and releasing the log leaves the log behind the snapshot: apply Raft's
        // snapshot rule here — keep the entries after the snapshot only if the log agrees with it at its index.
        var agrees = metadata is null || recovery.SnapshotIndex == floor ||
                     recovery.Entries.Any(e => e.Index == floor && e.Term == metadata.Term);
        var entries = agrees ? recovery.Entries.Where(e => e.Index > floor).ToArray() : [];
        // A snapshot holds only committed state, so the commit index is at least its index.
        var hardState = recovery.HardState with { Commit = Math.Max(recovery.HardState.Commit, floor) };
        var image = new DiskImage(hardState, metadata, snapshot?.Data.ToArray() ?? [], entries);
        return (wal, snapshots, image);
    }
}
