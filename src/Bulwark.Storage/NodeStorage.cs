using System.Collections.Immutable;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Snapshots;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage;

/// <summary>
/// One node's durable state: the write-ahead log (dataDir/wal) and the <see cref="SnapshotStore"/> (dataDir/snap).
/// Opening it recovers what the core and the state machine start from; <see cref="Persist"/> makes a Ready durable
/// with one sync. The log belongs to the Raft loop (not thread-safe); snapshot files may be written by the apply
/// worker while the loop runs, so every use of the snapshot store is serialized by one lock.
/// </summary>
public sealed class NodeStorage : IDisposable
{
    private readonly Lock snapshotLock = new();
    private SnapshotMetadata? newestSnapshot;
    private ulong releasedIndex;

    private NodeStorage(WriteAheadLog wal, WalRecovery recovery, SnapshotStore snapshots, SnapshotMetadata? newest)
    {
        Wal = wal;
        Recovery = recovery;
        Snapshots = snapshots;
        newestSnapshot = newest;
        releasedIndex = wal.SnapshotIndex;
    }

    public WriteAheadLog Wal { get; }

    public WalRecovery Recovery { get; }

    public SnapshotStore Snapshots { get; }

    /// <summary>Index, term and membership of the newest snapshot on disk (its data stays on disk).</summary>
    public SnapshotMetadata? NewestSnapshot => Volatile.Read(ref newestSnapshot);

    /// <summary>True when neither a log nor a snapshot exists: a brand-new node.</summary>
    public bool IsEmpty => NewestSnapshot is null && Recovery.LastIndex == 0 && Recovery.HardState.IsEmpty;

    /// <summary>
    /// Opens (creating if needed) the node's storage under <paramref name="dataDir"/>. The newest snapshot is read
    /// through once to verify its checksum, so a damaged one stops the node here rather than half-way into a restore.
    /// </summary>
    /// <exception cref="StorageCorruptionException">The log or the newest snapshot is damaged.</exception>
    public static NodeStorage Open(IFileSystem fs, string dataDir, WalOptions? walOptions = null)
    {
        ArgumentNullException.ThrowIfNull(fs);
        fs.CreateDirectory(dataDir);
        var snapshots = SnapshotStore.Open(fs, Path.Combine(dataDir, "snap"));
        SnapshotMetadata? newest = null;
        using (var reader = snapshots.OpenNewest())
        {
            if (reader is not null)
            {
                reader.CopyTo(Stream.Null);
                newest = reader.Metadata;
            }
        }

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

        var meta = NewestSnapshot ?? new SnapshotMetadata(0, 0, initialConfig);
        var entries = ImmutableArray.CreateBuilder<Entry>();
        var continues = meta.Index == 0 || Wal.TermAt(meta.Index) == meta.Term;
        if (meta.Index > Wal.SnapshotIndex)
        {
            // The newest snapshot is ahead of the log's release point: a crash came between saving it and releasing the
            // log, or it was received from a leader and the core never took it. The core starts from it, so the log
            // must too (keeping what continues it), or the entries the leader sends next would leave a gap in it.
            ReleaseLogUpTo(meta.Index, meta.Term);
        }
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
    /// Makes a Ready's snapshot, entries and hard state durable: hard state and snapshot first (the log is released up
    /// to it; a snapshot the peer transport streamed to disk is not written again, see <see cref="SaveSnapshot"/>),
    /// then the entries, then one fdatasync for the batch.
    /// </summary>
    /// <remarks>
    /// Retry-safe after <see cref="DiskFullException"/>: the host persists the same Ready again once
    /// space returns. The log takes each append whole or not at all, but a later step of the batch can fail after an
    /// earlier one went in, so steps already done (the snapshot saved and released, the entries at the log's end with
    /// the same index and term, which by Raft's log matching are the same entries) are not written twice.
    /// </remarks>
    public void Persist(Ready ready)
    {
        Write(ready);
        Sync(ready);
    }

    /// <summary>
    /// The first half of <see cref="Persist"/>: writes the Ready's snapshot, entries and hard state without the
    /// batch's sync, so a driver on virtual time (the simulator) can put the sync's latency, and crashes, in between.
    /// </summary>
    public void Write(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.Snapshot is { Metadata.Index: > 0 } snapshot && Wal.SnapshotIndex < snapshot.Metadata.Index)
        {
            if (ready.HardState is { } early)
            {
                Wal.SaveHardState(early);
            }

            SaveSnapshot(snapshot);
        }

        if (!ready.Entries.IsEmpty && !EndsWith(ready.Entries))
        {
            Wal.Append(ready.Entries.AsSpan());
        }

        if (ready.HardState is { } hard)
        {
            Wal.SaveHardState(hard);
        }
    }

    /// <summary>The second half of <see cref="Persist"/>: one fdatasync for the batch, if the Ready needs it.</summary>
    public void Sync(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.MustSync)
        {
            Wal.Sync();
        }
    }

    /// <summary>
    /// Makes a snapshot from the leader durable and releases the log up to it. Empty data means the peer transport
    /// already streamed it to disk under its index and term (through BeginSnapshot and CommitSnapshot), so nothing is
    /// written here; data held in memory is written first.
    /// </summary>
    /// <exception cref="InvalidOperationException">Empty data, but no such snapshot is on disk.</exception>
    public void SaveSnapshot(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var metadata = snapshot.Metadata;
        if (snapshot.Data.IsEmpty)
        {
            if (!HasSnapshot(metadata.Index, metadata.Term))
            {
                throw new InvalidOperationException($"snapshot {metadata.Index}@{metadata.Term} to install is not on disk");
            }
        }
        else if (NewestSnapshot is not { } newest || newest.Index != metadata.Index || newest.Term != metadata.Term)
        {
            WriteSnapshot(metadata, stream => stream.Write(snapshot.Data.Span));
        }

        ReleaseLogUpTo(metadata.Index, metadata.Term);
    }

    /// <summary>True when the log already ends with exactly these entries (a retried persist appended them before).</summary>
    private bool EndsWith(ImmutableArray<Entry> entries) =>
        Wal.LastIndex == entries[^1].Index &&
        Wal.TermAt(entries[^1].Index) == entries[^1].Term &&
        Wal.TermAt(entries[0].Index) == entries[0].Term;

    /// <summary>
    /// Streams a snapshot to a new file (temp file, fsync, rename, directory fsync) without touching the log: the
    /// apply worker calls this, and the loop releases the log afterwards with <see cref="ReleaseLogUpTo"/>.
    /// </summary>
    public void WriteSnapshot(SnapshotMetadata metadata, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(writeData);
        lock (snapshotLock)
        {
            using var writer = Snapshots.BeginWrite(metadata);
            writeData(writer);
            writer.Commit();
            if (NewestSnapshot is not { } current || metadata.Index > current.Index)
            {
                Volatile.Write(ref newestSnapshot, metadata);
            }
        }
    }

    /// <summary>
    /// Starts a snapshot whose data arrives piecewise from elsewhere (a peer), on any thread: write the data to the
    /// writer, then <see cref="CommitSnapshot"/> it. Disposing it uncommitted removes its temporary file.
    /// </summary>
    public SnapshotWriter BeginSnapshot(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        lock (snapshotLock)
        {
            return Snapshots.BeginWrite(metadata);
        }
    }

    /// <summary>Seals a snapshot begun with <see cref="BeginSnapshot"/> (fsync, rename, directory fsync).</summary>
    public void CommitSnapshot(SnapshotWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (snapshotLock)
        {
            writer.Commit();
            if (NewestSnapshot is not { } current || writer.Metadata.Index > current.Index)
            {
                Volatile.Write(ref newestSnapshot, writer.Metadata);
            }
        }
    }

    /// <summary>True when a snapshot with exactly this index and term is stored (any thread).</summary>
    public bool HasSnapshot(ulong index, ulong term)
    {
        lock (snapshotLock)
        {
            return Snapshots.List().Contains((index, term));
        }
    }

    /// <summary>Opens a stored snapshot for streaming (verified as it is read to its end).</summary>
    /// <exception cref="FileNotFoundException">No snapshot with that index and term is kept any more.</exception>
    public SnapshotReader OpenSnapshot(ulong index, ulong term)
    {
        lock (snapshotLock)
        {
            return Snapshots.OpenRead(index, term);
        }
    }

    /// <summary>Drops log entries a durable snapshot covers (the log keeps what follows if it matches). Loop only.</summary>
    public void ReleaseLogUpTo(ulong index, ulong term)
    {
        Wal.ReleaseUpTo(index, term);
        Volatile.Write(ref releasedIndex, Math.Max(Volatile.Read(ref releasedIndex), index));
    }

    /// <summary>
    /// The index the log was released up to (any thread). The core's commit index is never below it: the log is only
    /// released to a snapshot of applied entries or to one the core installed.
    /// </summary>
    public ulong ReleasedIndex => Volatile.Read(ref releasedIndex);

    /// <summary>
    /// Drops the log's own entries up to <paramref name="index"/>, which a durable snapshot at or after it covers, and
    /// keeps those after it; nothing happens if the log already starts after it. Loop only.
    /// </summary>
    public void ReleaseLogUpTo(ulong index)
    {
        if (index > Wal.SnapshotIndex && Wal.TermAt(index) is { } term)
        {
            Wal.ReleaseUpTo(index, term);
        }
    }

    /// <summary>
    /// Bytes this node holds on disk for its state (any thread): the snapshot files and the WAL's segment files, with
    /// their preallocated space. What Maintenance.Status reports as the db size.
    /// </summary>
    public long DiskBytes => Snapshots.FileBytes() + Wal.FileBytes();

    /// <summary>Deletes the snapshot files older than <paramref name="index"/>, which the log no longer needs; returns how many.</summary>
    public int DeleteSnapshotsOlderThan(ulong index)
    {
        lock (snapshotLock)
        {
            return Snapshots.DeleteOlderThan(index);
        }
    }

    public void Dispose() => Wal.Dispose();
}
