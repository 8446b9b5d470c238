using System.Buffers.Binary;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Wal;

/// <summary>
/// A segmented, append-only write-ahead log of Raft entries, hard state and snapshot points, with group commit:
/// <see cref="Append"/> and <see cref="SaveHardState"/> only buffer; one <see cref="Sync"/> writes the batch and
/// costs one fdatasync, and returns the index that is now durable.
/// Not thread-safe: one owner (the node's loop) drives it.
/// Fail-stop: after a failed fsync (or any write error it cannot account for) every call throws.
/// </summary>
public sealed class WriteAheadLog : IDisposable
{
    private readonly IFileSystem fs;
    private readonly WalOptions options;
    private readonly List<SegmentScanner.SegmentInfo> segments;
    private readonly List<ulong> terms = [];
    private IFileHandle current;
    private long segmentLength;
    private long writeOffset;
    private byte[] buffer = new byte[64 * 1024];
    private int buffered;
    private bool unsynced;
    private Exception? failure;
    private bool disposed;

    private WriteAheadLog(IFileSystem fs, string directory, WalOptions options, List<SegmentScanner.SegmentInfo> segments, IFileHandle current)
    {
        this.fs = fs;
        Directory = directory;
        this.options = options;
        this.segments = segments;
        this.current = current;
        segmentLength = current.Length;
    }

    public string Directory { get; }

    /// <summary>Index of the first entry held (snapshot index + 1).</summary>
    public ulong FirstIndex => SnapshotIndex + 1;

    /// <summary>Index of the last entry appended (durable or not); the snapshot index when the log is empty.</summary>
    public ulong LastIndex { get; private set; }

    /// <summary>Every entry up to this index, as the log holds it now, is on disk.</summary>
    public ulong DurableIndex { get; private set; }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    /// <summary>The last hard state saved (durable after the next <see cref="Sync"/>).</summary>
    public HardState HardState { get; private set; }

    /// <summary>Bytes of the log's segment files, preallocated space included (any thread: reads the directory).</summary>
    public long FileBytes() => DirectorySize.Of(fs, Directory);

    /// <summary>Number of segment files (for metrics and tests).</summary>
    public int SegmentCount => segments.Count;

    /// <summary>
    /// Opens (or creates) the log in <paramref name="directory"/>, verifying every record. A torn write at the very end
    /// is cut off; any other damage throws <see cref="StorageCorruptionException"/> naming the file and offset.
    /// </summary>
    public static WalOpenResult Open(IFileSystem fs, string directory, WalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new WalOptions();
        options.Validate();
        directory = PathUtil.Normalize(directory);
        if (!fs.DirectoryExists(directory))
        {
            fs.CreateDirectory(directory);
        }

        var scan = new SegmentScanner(fs, directory).Scan();
        var replay = scan.Replay;
        WriteAheadLog log;
        if (scan.Segments.Count == 0)
        {
            var first = CreateSegment(fs, directory, options.SegmentSize, 1, replay.LastIndex + 1, [], out var info);
            scan.Segments.Add(info);
            log = new WriteAheadLog(fs, directory, options, scan.Segments, first) { writeOffset = WalFormat.SegmentHeaderSize };
        }
        else
        {
            var tail = fs.Open(scan.Segments[^1].Path, OpenMode.OpenExisting);
            log = new WriteAheadLog(fs, directory, options, scan.Segments, tail) { writeOffset = scan.TailOffset };
            if (scan.TailDirtyEnd > scan.TailOffset)
            {
                // Wipe what a crash left half-written beyond the end, durably, before anything new goes after it.
                tail.WriteAt(scan.TailOffset, new byte[scan.TailDirtyEnd - scan.TailOffset]);
                tail.DataSync();
            }
        }

        log.HardState = replay.HardState;
        log.SnapshotIndex = replay.SnapshotIndex;
        log.SnapshotTerm = replay.SnapshotTerm;
        foreach (var entry in replay.Entries)
        {
            log.terms.Add(entry.Term);
        }

        log.LastIndex = replay.LastIndex;
        log.DurableIndex = replay.LastIndex;
        var recovery = new WalRecovery(replay.HardState, replay.SnapshotIndex, replay.SnapshotTerm, replay.Entries, scan.TornTail);
        return new WalOpenResult(log, recovery);
    }

    /// <summary>The term of the entry at <paramref name="index"/> (the snapshot term at the snapshot index), or null if not held.</summary>
    public ulong? TermAt(ulong index)
    {
        if (index == SnapshotIndex)
        {
            return SnapshotTerm;
        }

        return index > SnapshotIndex && index <= LastIndex ? terms[(int)(index - FirstIndex)] : null;
    }

    /// <summary>
    /// Appends contiguous entries. If the first index is at or below <see cref="LastIndex"/>, the conflicting suffix
    /// from there on is dropped first (Raft overwrites uncommitted entries). Not durable until <see cref="Sync"/>.
    /// Throws <see cref="DiskFullException"/> (log unchanged, still usable) when a new segment cannot be allocated.
    /// </summary>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        ThrowIfUnusable();
        if (entries.IsEmpty)
        {
            return;
        }

        ValidateBatch(entries);
        long bytes = 0;
        foreach (var entry in entries)
        {
            bytes += WalFormat.RecordSize(WalFormat.EntryFixedSize + entry.Data.Length);
        }

        EnsureRoom(bytes);
        foreach (var entry in entries)
        {
            var payloadLength = WalFormat.EntryFixedSize + entry.Data.Length;
            var record = Reserve(payloadLength);
            var payload = record[WalFormat.RecordHeaderSize..];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
            BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], entry.Index);
            payload[16] = (byte)entry.Type;
            entry.Data.Span.CopyTo(payload[WalFormat.EntryFixedSize..]);
            Seal(record, RecordType.Entry, payloadLength);
        }

        var firstIndex = entries[0].Index;
        if (firstIndex <= LastIndex)
        {
            terms.RemoveRange((int)(firstIndex - FirstIndex), (int)(LastIndex - firstIndex + 1));
            DurableIndex = Math.Min(DurableIndex, firstIndex - 1);
        }

        foreach (var entry in entries)
        {
            terms.Add(entry.Term);
        }

        LastIndex = entries[^1].Index;
        unsynced = true;
        FlushIfFull();
    }

    /// <summary>Records the hard state (term, vote, commit); durable after the next <see cref="Sync"/>.</summary>
    public void SaveHardState(HardState hardState)
    {
        ThrowIfUnusable();
        if (hardState == HardState)
        {
            return;
        }

        EnsureRoom(WalFormat.RecordSize(WalFormat.HardStateSize));
        WriteHardStateRecord(hardState);
        HardState = hardState;
        unsynced = true;
        FlushIfFull();
    }

    /// <summary>
    /// Writes everything appended since the last sync and makes it durable with one fdatasync (group commit).
    /// Returns <see cref="DurableIndex"/>. An fsync error throws <see cref="WalSyncFailedException"/> and the log stops for good.
    /// </summary>
    public ulong Sync()
    {
        ThrowIfUnusable();
        if (unsynced)
        {
            FlushBuffer();
            SyncCurrent();
        }

        DurableIndex = LastIndex;
        return DurableIndex;
    }

    /// <summary>
    /// Records that a snapshot covers everything up to (<paramref name="snapshotIndex"/>, <paramref name="snapshotTerm"/>),
    /// syncs, and deletes the segments that hold nothing above it. Follows Raft's snapshot rule: if the log has that entry
    /// with that term the entries after it stay, otherwise the whole log is dropped and the next append is snapshotIndex + 1.
    /// </summary>
    public void ReleaseUpTo(ulong snapshotIndex, ulong snapshotTerm)
    {
        ThrowIfUnusable();
        if (snapshotIndex <= SnapshotIndex)
        {
            return;
        }

        EnsureRoom(WalFormat.RecordSize(WalFormat.MarkerSize));
        var keepsFollowing = snapshotIndex <= LastIndex && TermAt(snapshotIndex) == snapshotTerm;
        WriteMarkerRecord(snapshotIndex, snapshotTerm, keepsFollowing);
        if (keepsFollowing)
        {
            terms.RemoveRange(0, (int)(snapshotIndex - FirstIndex + 1));
        }
        else
        {
            terms.Clear();
            LastIndex = snapshotIndex;
        }

        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        unsynced = true;
        Sync();

        // The marker is durable, so segments below it can go. A segment can go when every index it could hold is
        // covered: all it holds is below the next segment's first index.
        var deleted = 0;
        while (segments.Count > 1 && segments[1].FirstIndex - 1 <= snapshotIndex)
        {
            fs.Delete(segments[0].Path);
            segments.RemoveAt(0);
            deleted++;
        }

        if (deleted > 0)
        {
            SyncDirectoryFailStop();
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        current.Dispose();
    }

    private void ValidateBatch(ReadOnlySpan<Entry> entries)
    {
        var first = entries[0];
        if (first.Index <= SnapshotIndex)
        {
            throw new ArgumentException(
                $"Entry {first.Index} is at or below the snapshot index {SnapshotIndex}; compacted entries cannot be rewritten.", nameof(entries));
        }

        if (first.Index > LastIndex + 1)
        {
            throw new ArgumentException($"Entry {first.Index} would leave a gap: the log ends at {LastIndex}.", nameof(entries));
        }

        var previousTerm = TermAt(first.Index - 1) ?? 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (i > 0 && e.Index != entries[i - 1].Index + 1)
            {
                throw new ArgumentException($"Entries are not contiguous: {entries[i - 1].Index} is followed by {e.Index}.", nameof(entries));
            }

            if (e.Term < previousTerm)
            {
                throw new ArgumentException($"Entry {e.Index} has term {e.Term}, below the preceding entry's term {previousTerm}.", nameof(entries));
            }

            if (e.Term == 0)
            {
                throw new ArgumentException($"Entry {e.Index} has term 0; Raft entries have terms of 1 or more.", nameof(entries));
            }

            previousTerm = e.Term;
        }
    }

    private void EnsureRoom(long bytes)
    {
        if (writeOffset + buffered + bytes > segmentLength)
        {
            RollOver(bytes);
        }

        var needed = buffered + bytes;
        if (needed > buffer.Length)
        {
            Array.Resize(ref buffer, (int)Math.Max(needed, Math.Min((long)buffer.Length * 2, int.MaxValue)));
        }
    }

    private Span<byte> Reserve(int payloadLength)
    {
        var total = (int)WalFormat.RecordSize(payloadLength);
        return buffer.AsSpan(buffered, total);
    }

    private void Seal(Span<byte> record, RecordType type, int payloadLength) =>
        buffered += WalFormat.SealRecord(record, type, payloadLength);

    private void WriteHardStateRecord(HardState hs)
    {
        var record = Reserve(WalFormat.HardStateSize);
        var payload = record[WalFormat.RecordHeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, hs.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], hs.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], hs.Commit);
        Seal(record, RecordType.HardState, WalFormat.HardStateSize);
    }

    private void WriteMarkerRecord(ulong index, ulong term, bool keepsFollowing)
    {
        var record = Reserve(WalFormat.MarkerSize);
        var payload = record[WalFormat.RecordHeaderSize..];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], keepsFollowing ? 1ul : 0ul);
        Seal(record, RecordType.SnapshotMarker, WalFormat.MarkerSize);
    }

    private void FlushIfFull()
    {
        if (buffered >= options.WriteBufferSize)
        {
            FlushBuffer();
        }
    }

    private void FlushBuffer()
    {
        if (buffered == 0)
        {
            return;
        }

        try
        {
            current.WriteAt(writeOffset, buffer.AsSpan(0, buffered));
        }
        catch (IOException e)
        {
            // Inside a preallocated segment a write should not fail; if it does we cannot tell what landed.
            throw FailStop(new WalFailedException(e));
        }

        writeOffset += buffered;
        buffered = 0;
    }

    private void SyncCurrent()
    {
        try
        {
            current.DataSync();
        }
        catch (IOException e)
        {
            throw FailStop(new WalSyncFailedException(current.Path, e));
        }

        unsynced = false;
    }

    private void SyncDirectoryFailStop()
    {
        try
        {
            fs.SyncDirectory(Directory);
        }
        catch (IOException e)
        {
            throw FailStop(new WalSyncFailedException(Directory, e));
        }
    }

    /// <summary>
    /// Seals the current segment (written and synced, so no later segment can be durable while this one is not) and
    /// starts the next, which opens with copies of the hard state and snapshot point so older segments can be deleted.
    /// </summary>
    private void RollOver(long bytes)
    {
        if (unsynced || buffered > 0)
        {
            FlushBuffer();
            SyncCurrent();
        }

        DurableIndex = LastIndex;
        var stateBytes = StateRecordsSize();
        var size = Math.Max(options.SegmentSize, WalFormat.SegmentHeaderSize + stateBytes + bytes);
        var sequence = segments[^1].Sequence + 1;
        IFileHandle next;
        SegmentScanner.SegmentInfo info;
        try
        {
            next = CreateSegment(fs, Directory, size, sequence, LastIndex + 1, StateRecords(), out info);
        }
        catch (DiskFullException)
        {
            throw;
        }
        catch (IOException e)
        {
            throw FailStop(new WalFailedException(e));
        }

        current.Dispose();
        current = next;
        segments.Add(info);
        segmentLength = size;
        writeOffset = WalFormat.SegmentHeaderSize + stateBytes;
    }

    private long StateRecordsSize() =>
        (HardState.IsEmpty ? 0 : WalFormat.RecordSize(WalFormat.HardStateSize)) +
        (SnapshotIndex == 0 ? 0 : WalFormat.RecordSize(WalFormat.MarkerSize));

    private byte[] StateRecords()
    {
        var saved = (buffer, buffered);
        buffer = new byte[StateRecordsSize()];
        buffered = 0;
        if (!HardState.IsEmpty)
        {
            WriteHardStateRecord(HardState);
        }

        if (SnapshotIndex != 0)
        {
            WriteMarkerRecord(SnapshotIndex, SnapshotTerm, keepsFollowing: true);
        }

        var records = buffer;
        (buffer, buffered) = saved;
        return records;
    }

    /// <summary>Creates, preallocates and durably names a segment holding its header and <paramref name="stateRecords"/>.</summary>
    private static IFileHandle CreateSegment(
        IFileSystem fs, string directory, long size, ulong sequence, ulong firstIndex, byte[] stateRecords, out SegmentScanner.SegmentInfo info)
    {
        var path = PathUtil.Combine(directory, SegmentName.Format(sequence, firstIndex));
        IFileHandle? handle = null;
        try
        {
            handle = fs.Open(path, OpenMode.CreateNew);
            handle.Preallocate(size);
            var head = new byte[WalFormat.SegmentHeaderSize + stateRecords.Length];
            WalFormat.WriteSegmentHeader(head, sequence, firstIndex);
            stateRecords.CopyTo(head, WalFormat.SegmentHeaderSize);
            handle.WriteAt(0, head);
            handle.DataSync();
            fs.SyncDirectory(directory);
            info = new SegmentScanner.SegmentInfo(sequence, firstIndex, path);
            return handle;
        }
        catch (NoSpaceLeftOnDeviceException e)
        {
            handle?.Dispose();
            TryDelete(fs, directory, path);
            throw new DiskFullException($"cannot allocate WAL segment '{path}' of {size} bytes", e);
        }
        catch
        {
            handle?.Dispose();
            throw;
        }
    }

    private static void TryDelete(IFileSystem fs, string directory, string path)
    {
        try
        {
            if (fs.FileExists(path))
            {
                fs.Delete(path);
                fs.SyncDirectory(directory);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover segment with no valid header and nothing after it is removed on the next open.
        }
    }

    private Exception FailStop(StorageException failure)
    {
        this.failure = failure;
        return failure;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (failure is not null)
        {
            throw new WalFailedException(failure);
        }
    }
}
