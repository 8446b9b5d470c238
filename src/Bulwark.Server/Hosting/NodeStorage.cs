using System.Collections.Immutable;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Server.Hosting;

/// <summary>
/// One node's durable state: the write-ahead log (dataDir/wal) and snapshot files (dataDir/snap). Opening it
/// recovers what the core and the state machine start from; <see cref="Persist"/> makes a Ready durable with one sync.
/// Owned by the node loop (not thread-safe).
/// </summary>
public sealed class NodeStorage : IDisposable
{
    private NodeStorage(WriteAheadLog wal, WalRecovery recovery, SnapshotFiles snapshots, Snapshot? newest)
    {
        Wal = wal;
        Recovery = recovery;
        Snapshots = snapshots;
        NewestSnapshot = newest;
    }

    public WriteAheadLog Wal { get; }

    public WalRecovery Recovery { get; }

    public SnapshotFiles Snapshots { get; }

    /// <summary>The newest snapshot on disk (kept in memory to send to followers that fell behind).</summary>
    public Snapshot? NewestSnapshot { get; private set; }

    /// <summary>True when neither a log nor a snapshot exists: a brand-new node.</summary>
    public bool IsEmpty => NewestSnapshot is null && Recovery.LastIndex == 0 && Recovery.HardState.IsEmpty;

    /// <summary>Opens (creating if needed) the node's storage under <paramref name="dataDir"/>.</summary>
    /// <exception cref="Bulwark.Storage.StorageCorruptionException">The log or the newest snapshot is damaged.</exception>
    public static NodeStorage Open(IFileSystem fs, string dataDir, WalOptions? walOptions = null)
    {
        ArgumentNullException.ThrowIfNull(fs);
        fs.CreateDirectory(dataDir);
        var snapshots = new SnapshotFiles(fs, Path.Combine(dataDir, "snap"));
        var newest = snapshots.LoadNewest();
        var (wal, recovery) = WriteAheadLog.Open(fs, Path.Combine(dataDir, "wal"), walOptions);
        return new NodeStorage(wal, recovery, snapshots, newest);
    }

    /// <summary>
    /// The state to build the core from: the newest snapshot's metadata (or the initial membership at index 0), the
    /// logged entries after it, and the hard state. Entries that do not continue the snapshot are dropped.
    /// </summary>
    public RaftState BuildRaftState(ClusterConfig initialConfig)
    {
        ArgumentNullException.ThrowIfNull(initialConfig);
        if (IsEmpty)
        {
            return RaftState.Bootstrap(initialConfig);
        }

        var meta = NewestSnapshot?.Metadata ?? new SnapshotMetadata(0, 0, initialConfig);
        var entries = ImmutableArray.CreateBuilder<Entry>();
        var continues = meta.Index == 0 || Wal.TermAt(meta.Index) == meta.Term;
        if (continues)
        {
            foreach (var entry in Recovery.Entries)
            {
                if (entry.Index > meta.Index)
                {
                    entries.Add(entry);
                }
            }
        }

        var hard = Recovery.HardState;
        var lastTerm = entries.Count > 0 ? entries[^1].Term : meta.Term;
        var lastIndex = entries.Count > 0 ? entries[^1].Index : meta.Index;

        // A crash between saving an installed snapshot and persisting the hard state that came with it can leave the
        // hard state behind the snapshot: raising the term without a vote, and the commit to what is known, is safe.
        if (hard.Term < lastTerm)
        {
            hard = new HardState(lastTerm, 0, hard.Commit);
        }

        hard = hard with { Commit = Math.Clamp(hard.Commit, meta.Index, lastIndex) };
        return new RaftState(hard, meta, entries.ToImmutable(), meta.Index);
    }

    /// <summary>
    /// Makes a Ready's snapshot, entries and hard state durable: hard state and snapshot first (the snapshot file is
    /// synced and the log released up to it), then the entries, then one fdatasync for the batch.
    /// </summary>
    public void Persist(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.Snapshot is { Metadata.Index: > 0 } snapshot)
        {
            if (ready.HardState is { } early)
            {
                Wal.SaveHardState(early);
            }

            SaveSnapshot(snapshot);
        }

        if (!ready.Entries.IsEmpty)
        {
            Wal.Append(ready.Entries.AsSpan());
        }

        if (ready.HardState is { } hard)
        {
            Wal.SaveHardState(hard);
        }

        if (ready.MustSync)
        {
            Wal.Sync();
        }
    }

    /// <summary>Saves a snapshot durably and releases the log up to it (the log keeps what follows if it matches).</summary>
    public void SaveSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Snapshots.Save(snapshot);
        NewestSnapshot = snapshot;
        Wal.ReleaseUpTo(snapshot.Metadata.Index, snapshot.Metadata.Term);
    }

    public void Dispose() => Wal.Dispose();
}
