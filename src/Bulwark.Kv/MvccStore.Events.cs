using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Google.Protobuf;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Rebuilds from retained history the events of keys in [key, rangeEnd) (etcd range rules)
    /// with revisions in [<paramref name="fromRevision"/>, <paramref name="toRevision"/>], for a
    /// watcher that starts in the past. Ordered by revision; within one revision by key (live
    /// events from a write come in operation order instead). prev_kv is always filled when the
    /// key existed before the event.
    /// </summary>
    /// <exception cref="KvException">
    /// <paramref name="fromRevision"/> is below the compact revision (history is gone; etcd's watch rule: events at the
    /// compact revision itself are still served, as the state at that revision is kept), or
    /// <paramref name="toRevision"/> is beyond the current revision.
    /// </exception>
    public List<Event> ReadEvents(ByteString key, ByteString rangeEnd, long fromRevision, long toRevision)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rangeEnd);
        EnsureNotWriting();
        if (key.IsEmpty)
        {
            throw KvErrors.EmptyKey();
        }

        if (fromRevision < compactRevision)
        {
            throw KvErrors.Compacted();
        }

        if (toRevision > currentRevision)
        {
            throw KvErrors.FutureRevision();
        }

        var found = new List<(long Revision, int Ordinal, Event Event)>();
        var scan = new RangeScan(index, key, rangeEnd);
        while (scan.TryNext(out var record))
        {
            if (record.Latest.ModRevision < fromRevision)
            {
                continue;
            }

            // Only the retained states: history whose compaction a snapshot defers must not add events or prev_kvs.
            var (start, end) = record.Retained(compactRevision, toRevision);
            for (int i = start; i < end; i++)
            {
                var entry = record.StateAt(i);
                if (entry.ModRevision < fromRevision || entry.ModRevision > toRevision)
                {
                    continue;
                }

                var ev = new Event
                {
                    Type = entry.IsTombstone ? Event.Types.EventType.Delete : Event.Types.EventType.Put,
                    Kv = entry.IsTombstone
                        ? new KeyValue { Key = Wrap(record.Key), ModRevision = entry.ModRevision }
                        : ToKeyValue(record.Key, entry, keysOnly: false),
                };
                if (i > start && !record.StateAt(i - 1).IsTombstone)
                {
                    ev.PrevKv = ToKeyValue(record.Key, record.StateAt(i - 1), keysOnly: false);
                }

                found.Add((entry.ModRevision, found.Count, ev));
            }
        }

        found.Sort(static (a, b) => a.Revision != b.Revision ? a.Revision.CompareTo(b.Revision) : a.Ordinal.CompareTo(b.Ordinal));
        var events = new List<Event>(found.Count);
        foreach (var item in found)
        {
            events.Add(item.Event);
        }

        return events;
    }
}
