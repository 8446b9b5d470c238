using Bulwark.Api.Mvccpb;

namespace Bulwark.Kv.Watch;

/// <summary>
/// What a watcher receives: every matching event of one revision (one Txn's events stay together), or, when
/// <see cref="CompactRevision"/> is set, the notice that the history the watcher still needed was compacted; that
/// notice is the watcher's last delivery (etcd answers it with compact_revision set and cancels the watch).
/// </summary>
public sealed record WatchDelivery(long Revision, IReadOnlyList<Event> Events, long CompactRevision = 0)
{
    public bool IsCompacted => CompactRevision > 0;

    /// <summary>Encoded size of the events, counted against the queue's limit.</summary>
    internal long Bytes { get; init; }

    internal static WatchDelivery Of(long revision, List<Event> events)
    {
        long bytes = 0;
        foreach (var ev in events)
        {
            bytes += ev.CalculateSize();
        }

        return new WatchDelivery(revision, events) { Bytes = bytes };
    }
}
