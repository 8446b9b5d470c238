using System.Runtime.InteropServices;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Index;
using Bulwark.Kv.Leases;
using Bulwark.Kv.Snapshots;
using Google.Protobuf;

namespace Bulwark.Kv;

/// <summary>
/// The multi-version key-value store behind the etcd v3 KV API: a global revision that every
/// change bumps, per-key create/mod revisions, versions and leases, tombstones on delete,
/// historical reads until compaction, atomic transactions and a lease table.
/// Pure and deterministic: no clock, no I/O, no threads, no randomness; the same sequence of
/// calls gives the same state and the same snapshot bytes on every member. Not thread-safe:
/// one owner (the apply loop) calls it.
/// Byte arrays taken from requests and handed out in responses are shared, not copied; they
/// are never mutated by the store, and callers must not mutate them either.
/// </summary>
public sealed partial class MvccStore
{
    /// <summary>etcd's maximum lease TTL in seconds.</summary>
    public const long MaxLeaseTtlSeconds = 9_000_000_000;

    private readonly KeyIndex index = new();
    private readonly LeaseTable leases = new();
    private readonly List<UndoEntry> undo = new();

    // Keys compaction may change: those with older states or a tombstone. Keeping them apart
    // makes compaction cost proportional to the keys changed since the last one, not the store.
    private readonly HashSet<KeyRecord> versioned = new(ReferenceEqualityComparer.Instance);

    private long currentRevision = 1;
    private long compactRevision;

    // The compact revision whose history CompactHistory last dropped; below compactRevision while a snapshot defers it.
    private long historyCompactedTo;
    private PointInTimeSnapshot? openSnapshot;
    private long liveKeys;
    private long liveDataBytes;

    // State of the write in progress (see BeginWrite).
    private bool writing;
    private int pendingChanges;
    private List<Event>? eventSink;
    private int eventSinkStart;

    /// <summary>The store revision; a fresh store is at revision 1, as in etcd.</summary>
    public long Revision => currentRevision;

    /// <summary>Reads below this revision fail as compacted; 0 when never compacted.</summary>
    public long CompactRevision => compactRevision;

    /// <summary>Keys in the index, including deleted keys whose history is not compacted yet (or whose compaction a
    /// <see cref="PointInTimeSnapshot"/> defers).</summary>
    public int IndexedKeyCount => index.Count;

    /// <summary>Keys that exist at the current revision.</summary>
    public long LiveKeyCount => liveKeys;

    /// <summary>
    /// Bytes of the keys and current values of the live keys: a cheap running estimate of the data the store holds,
    /// kept with <see cref="LiveKeyCount"/>. History retained for older revisions and index overhead are not counted.
    /// </summary>
    public long LiveDataBytes => liveDataBytes;

    public int LeaseCount => leases.Count;

    private long PendingRevision => currentRevision + 1;

    /// <summary>Revision a read inside the current write sees: its own changes, once it has any.</summary>
    private long VisibleRevision => pendingChanges > 0 ? currentRevision + 1 : currentRevision;

    private void BeginWrite(List<Event>? events)
    {
        if (writing)
        {
            throw new InvalidOperationException("MvccStore invariant broken: a write started while another is in progress.");
        }

        writing = true;
        pendingChanges = 0;
        undo.Clear();
        eventSink = events;
        eventSinkStart = events?.Count ?? 0;
    }

    private void CommitWrite()
    {
        if (pendingChanges > 0)
        {
            currentRevision++;
        }

        EndWrite();
    }

    /// <summary>Undoes every change of the write in progress, newest first; the revision does not move.</summary>
    private void RollbackWrite()
    {
        for (int i = undo.Count - 1; i >= 0; i--)
        {
            var entry = undo[i];
            var record = entry.Record;
            if (record.IsLive)
            {
                liveKeys--;
                liveDataBytes -= DataSize(record.Key, record.Latest);
                if (record.Latest.Lease != 0)
                {
                    leases.Detach(record.Latest.Lease, record);
                }
            }

            if (entry.Inserted)
            {
                versioned.Remove(record);
                if (!index.Remove(record.Key))
                {
                    throw new InvalidOperationException("MvccStore invariant broken: rolling back an insert of a key that is not indexed.");
                }

                continue;
            }

            record.RestoreTo(entry.PreviousLatest, entry.PreviousHistoryCount);
            if (record.IsLive)
            {
                liveKeys++;
                liveDataBytes += DataSize(record.Key, record.Latest);
                if (record.Latest.Lease != 0)
                {
                    leases.Attach(record.Latest.Lease, record);
                }
            }
        }

        if (eventSink is not null)
        {
            eventSink.RemoveRange(eventSinkStart, eventSink.Count - eventSinkStart);
        }

        EndWrite();
    }

    private void EndWrite()
    {
        writing = false;
        pendingChanges = 0;
        undo.Clear();
        eventSink = null;
    }

    private static long DataSize(byte[] key, in RevisionEntry entry) => key.Length + (entry.Value?.Length ?? 0);

    private void EnsureNotWriting()
    {
        if (writing)
        {
            throw new InvalidOperationException("MvccStore invariant broken: re-entered during a write.");
        }
    }

    /// <summary>Makes <paramref name="next"/> the newest state of an existing key, recording how to undo it.</summary>
    private void WriteExisting(KeyRecord record, RevisionEntry next)
    {
        var previous = record.Latest;
        undo.Add(new UndoEntry(record, previous, record.HistoryCount, Inserted: false));
        record.Push(next);
        versioned.Add(record);
        if (!previous.IsTombstone)
        {
            liveKeys--;
            liveDataBytes -= DataSize(record.Key, previous);
            if (previous.Lease != 0)
            {
                leases.Detach(previous.Lease, record);
            }
        }

        if (!next.IsTombstone)
        {
            liveKeys++;
            liveDataBytes += DataSize(record.Key, next);
            if (next.Lease != 0)
            {
                leases.Attach(next.Lease, record);
            }
        }

        pendingChanges++;
        EmitEvent(record, next, previous);
    }

    private KeyRecord WriteNew(byte[] key, RevisionEntry next)
    {
        var record = new KeyRecord(key, next);
        index.Insert(record);
        undo.Add(new UndoEntry(record, default, 0, Inserted: true));
        liveKeys++;
        liveDataBytes += DataSize(key, next);
        if (next.Lease != 0)
        {
            leases.Attach(next.Lease, record);
        }

        pendingChanges++;
        EmitEvent(record, next, default);
        return record;
    }

    private void EmitEvent(KeyRecord record, in RevisionEntry next, in RevisionEntry previous)
    {
        if (eventSink is null)
        {
            return;
        }

        var ev = new Event
        {
            Type = next.IsTombstone ? Event.Types.EventType.Delete : Event.Types.EventType.Put,
            Kv = next.IsTombstone
                ? new KeyValue { Key = Wrap(record.Key), ModRevision = next.ModRevision }
                : ToKeyValue(record.Key, next, keysOnly: false),
        };
        if (!previous.IsTombstone)
        {
            ev.PrevKv = ToKeyValue(record.Key, previous, keysOnly: false);
        }

        eventSink.Add(ev);
    }

    internal static KeyValue ToKeyValue(byte[] key, in RevisionEntry entry, bool keysOnly) => new()
    {
        Key = Wrap(key),
        CreateRevision = entry.CreateRevision,
        ModRevision = entry.ModRevision,
        Version = entry.Version,
        Lease = entry.Lease,
        Value = keysOnly || entry.Value is null ? ByteString.Empty : Wrap(entry.Value),
    };

    internal static ByteString Wrap(byte[] bytes) =>
        bytes.Length == 0 ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(bytes);

    /// <summary>The bytes of a request field as an array the store may keep (no copy when the ByteString owns an exact array).</summary>
    internal static byte[] Own(ByteString bytes)
    {
        if (bytes.IsEmpty)
        {
            return [];
        }

        if (MemoryMarshal.TryGetArray(bytes.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length)
        {
            return segment.Array;
        }

        return bytes.ToByteArray();
    }

    private readonly record struct UndoEntry(KeyRecord Record, RevisionEntry PreviousLatest, int PreviousHistoryCount, bool Inserted);
}
