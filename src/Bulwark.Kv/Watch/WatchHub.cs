using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Index;
using Google.Protobuf;

namespace Bulwark.Kv.Watch;

/// <summary>
/// Hands the store's changes to watchers, as etcd's watchable store does. A watcher is <em>synced</em> when it has been
/// given everything up to the last published revision: the applier's <see cref="Publish"/> queues each new revision's
/// matching events to it directly. A watcher that starts in the past, or whose consumer fell behind (its queue full),
/// is <em>unsynced</em>: <see cref="SyncOnce"/> reads its missing revisions from the store's history in bounded steps
/// and queues them while the consumer makes room, then joins it to the synced set. So a slow watcher never blocks the
/// applier or other watchers, holds at most its queue in memory, and still receives every event exactly once, in
/// revision order; if the history it needs is compacted meanwhile it gets a compaction notice and ends.
/// </summary>
/// <remarks>
/// No gap and no duplicate at the seam between history and live events: the hub's lock orders every
/// <see cref="Publish"/> against every history read, and a revision is published only after the store holds it. So a
/// history read that already saw revision R moves the watcher's next revision past R, and the later publish of R is
/// skipped for it; a read that did not see R leaves the watcher's next revision at R, and the publish delivers it.
/// <see cref="Publish"/> must therefore be called after the store applied the revision and never while holding the
/// store's lock (history reads take the store's lock under the hub's lock).
/// </remarks>
public sealed class WatchHub
{
    /// <summary>Events a watcher's queue holds before the watcher falls back to catching up from history.</summary>
    public const int DefaultQueueEvents = 1024;

    /// <summary>Encoded bytes of events a watcher's queue holds before the watcher falls back to catching up from history.</summary>
    public const long DefaultQueueBytes = 1024 * 1024;

    /// <summary>Revisions read from history per watcher per sync step, so one step never holds the hub for long.</summary>
    public const int DefaultRevisionsPerStep = 512;

    private readonly Lock gate = new();
    private readonly IWatchStore store;
    private readonly int queueEvents;
    private readonly long queueBytes;
    private readonly int revisionsPerStep;
    private readonly Dictionary<long, Watcher> watchers = [];
    // Synced watchers in groups of equal requests (key, range, filters, prev_kv): a publish matches and shapes an event
    // once per group and queues one shared delivery to each member, so 1,000 watchers of one prefix cost one match.
    private readonly Dictionary<WatchOptions, WatcherGroup> groups = [];
    private readonly Dictionary<ByteString, List<WatcherGroup>> syncedKeys = [];
    private readonly List<WatcherGroup> syncedRanges = [];
    private readonly List<Watcher> unsynced = [];
    private long nextId = 1;
    private long publishedRevision;
    private TaskCompletionSource syncWork = NewSignal();

    public WatchHub(IWatchStore store, int queueEvents = DefaultQueueEvents, int revisionsPerStep = DefaultRevisionsPerStep, long queueBytes = DefaultQueueBytes)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueEvents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueBytes, 1);
        this.queueBytes = queueBytes;
        ArgumentOutOfRangeException.ThrowIfLessThan(revisionsPerStep, 1);
        this.store = store;
        this.queueEvents = queueEvents;
        this.revisionsPerStep = revisionsPerStep;
        publishedRevision = store.Read(static s => s.Revision); // what the store held before the hub existed counts as published
    }

    /// <summary>Watchers registered and not canceled.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return watchers.Count;
            }
        }
    }

    /// <summary>Watchers catching up from history (etcd's slow watchers).</summary>
    public int UnsyncedCount
    {
        get
        {
            lock (gate)
            {
                return unsynced.Count;
            }
        }
    }

    /// <summary>
    /// Registers a watcher. With <see cref="WatchOptions.StartRevision"/> 0 it sees changes after the store's current
    /// revision; a start revision in the past replays history first; one in the future waits for it. Returns the
    /// watcher and the store revision at registration (the create response's header revision). The watcher's
    /// <see cref="Watcher.Id"/> is the hub's own; the ids a client sees belong to its stream (etcd scopes them so).
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    /// <param name="queue">Where the watcher's deliveries go: its stream's queue, shared with the stream's other watchers,
    /// or null for a queue of its own.</param>
    public (Watcher Watcher, long Revision) Register(WatchOptions options, WatchQueue? queue = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Key.IsEmpty)
        {
            throw new ArgumentException("a watch needs a key", nameof(options));
        }

        lock (gate)
        {
            long chosen = nextId++;
            long current = store.Read(static s => s.Revision);
            long first = options.StartRevision > 0 ? options.StartRevision : current + 1;
            var own = queue is null;
            queue ??= new WatchQueue(queueEvents, queueBytes);
            queue.RoomMade ??= SignalSyncWork;
            var watcher = new Watcher(chosen, options, queue, own, first);
            watchers.Add(chosen, watcher);
            if (first > current)
            {
                JoinSynced(watcher);
            }
            else
            {
                unsynced.Add(watcher);
                SignalSyncWork();
            }

            return (watcher, current);
        }
    }

    /// <summary>Removes a watcher; its consumer's read ends once the queue is drained. False if it was not registered.</summary>
    public bool Cancel(long id)
    {
        Watcher? watcher;
        lock (gate)
        {
            if (!watchers.Remove(id, out watcher))
            {
                return false;
            }

            Detach(watcher);
        }

        watcher.Close();
        return true;
    }

    /// <summary>
    /// Queues the events of one applied revision to the synced watchers they match. A watcher without room is moved to
    /// the unsynced set at this revision and catches up from history later. Call after the store applied
    /// <paramref name="revision"/>, outside the store's lock, in revision order.
    /// </summary>
    public void Publish(long revision, IReadOnlyList<Event> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        HashSet<WatchQueue>? touched = null;
        lock (gate)
        {
            publishedRevision = Math.Max(publishedRevision, revision);
            if (events.Count == 0 || watchers.Count == 0)
            {
                return;
            }

            // Each event is shaped (prev_kv dropped, size counted) once per publish, not once per watcher.
            var shaped = new ShapedEvent[events.Count];
            for (int i = 0; i < events.Count; i++)
            {
                shaped[i] = new ShapedEvent(events[i]);
            }

            Dictionary<WatcherGroup, (List<Event> Events, long Bytes)>? matched = null;
            foreach (var ev in shaped)
            {
                if (syncedKeys.TryGetValue(ev.Full.Kv.Key, out var byKey))
                {
                    foreach (var group in byKey)
                    {
                        Collect(ref matched, group, ev);
                    }
                }

                foreach (var group in syncedRanges)
                {
                    Collect(ref matched, group, ev);
                }
            }

            if (matched is null)
            {
                return;
            }

            List<Watcher>? behind = null;
            foreach (var (group, (list, bytes)) in matched)
            {
                var delivery = new WatchDelivery(revision, list) { Bytes = bytes };
                foreach (var watcher in group.Members)
                {
                    if (revision < watcher.NextRevision)
                    {
                        continue; // a history read already delivered this revision
                    }

                    if (!watcher.IsClosed && watcher.Queue.TryEnqueue(watcher, delivery))
                    {
                        (touched ??= new HashSet<WatchQueue>(ReferenceEqualityComparer.Instance)).Add(watcher.Queue);
                        watcher.NextRevision = revision + 1;
                    }
                    else
                    {
                        (behind ??= []).Add(watcher);
                    }
                }
            }

            foreach (var watcher in behind ?? [])
            {
                // The consumer is behind: hold nothing more for it; it re-reads this revision from history.
                Detach(watcher);
                watcher.NextRevision = revision;
                unsynced.Add(watcher);
                SignalSyncWork();
            }
        }

        if (touched is not null)
        {
            foreach (var queue in touched)
            {
                queue.Wake(); // once per queue per revision, outside the hub's lock
            }
        }
    }

    /// <summary>
    /// The store was replaced by a snapshot: every watcher catches up from the new store's history (or learns that it
    /// was compacted).
    /// </summary>
    public void StoreReplaced()
    {
        lock (gate)
        {
            publishedRevision = store.Read(static s => s.Revision);
            foreach (var watcher in watchers.Values)
            {
                if (watcher.Synced)
                {
                    Detach(watcher);
                    unsynced.Add(watcher);
                }
            }

            SignalSyncWork();
        }
    }

    /// <summary>
    /// The revision a progress notification may report to the consumer of <paramref name="group"/>: the last published
    /// revision, when every watcher in the group has been handed everything up to it (synced, nothing queued); null
    /// while any of them still has something to receive. The caller must also have sent all it took from the queues.
    /// </summary>
    public long? ProgressRevision(IEnumerable<Watcher> group)
    {
        ArgumentNullException.ThrowIfNull(group);
        lock (gate)
        {
            foreach (var watcher in group)
            {
                if (!watcher.IsIdle && !watcher.IsClosed)
                {
                    return null;
                }
            }

            return publishedRevision;
        }
    }

    /// <summary>
    /// One catch-up step over the unsynced watchers whose consumers have room: each gets up to the hub's step of
    /// revisions from history. Returns true when some unsynced watcher has room and history still to read (call
    /// again), false when the rest wait on their consumers or none is left.
    /// </summary>
    public bool SyncOnce()
    {
        lock (gate)
        {
            bool more = false;
            foreach (var watcher in unsynced.ToArray())
            {
                if (!watcher.HasRoomFor(1, 0))
                {
                    continue;
                }

                more |= CatchUp(watcher);
            }

            return more;
        }
    }

    /// <summary>Completes when there may be catch-up work: a watcher became unsynced or a catching-up consumer made room.</summary>
    /// <remarks>Take the task before calling <see cref="SyncOnce"/>, so that a signal raised during the step is not missed.</remarks>
    public Task SyncWorkAsync(CancellationToken cancel) => Volatile.Read(ref syncWork).Task.WaitAsync(cancel);

    internal void SignalSyncWork() => Interlocked.Exchange(ref syncWork, NewSignal()).TrySetResult();

    /// <returns>True when the watcher still has history to read and room to take it.</returns>
    private bool CatchUp(Watcher watcher)
    {
        long from = watcher.NextRevision;
        var (current, storeRevision, compacted, events) = store.Read(s =>
        {
            if (from < s.CompactRevision)
            {
                return (s.Revision, s.Revision, s.CompactRevision, (List<Event>?)null);
            }

            long to = Math.Min(s.Revision, from + revisionsPerStep - 1);
            var read = from <= to ? s.ReadEvents(watcher.Options.Key, watcher.Options.RangeEnd, from, to) : [];
            return (to, s.Revision, 0L, read);
        });

        if (events is null)
        {
            watchers.Remove(watcher.Id);
            unsynced.Remove(watcher);
            watcher.Enqueue(new WatchDelivery(current, [], compacted), close: true);
            return false;
        }

        int i = 0;
        while (i < events.Count)
        {
            long revision = events[i].Kv.ModRevision;
            var batch = new List<Event>();
            for (; i < events.Count && events[i].Kv.ModRevision == revision; i++)
            {
                if (watcher.Matches(events[i]))
                {
                    batch.Add(new ShapedEvent(events[i]).For(watcher.Options.PrevKv));
                }
            }

            if (batch.Count > 0)
            {
                var delivery = WatchDelivery.Of(revision, batch);
                if (!watcher.HasRoomFor(batch.Count, delivery.Bytes))
                {
                    watcher.NextRevision = revision;
                    return false;
                }

                watcher.Enqueue(delivery);
            }

            watcher.NextRevision = revision + 1;
        }

        watcher.NextRevision = Math.Max(watcher.NextRevision, current + 1);
        if (current >= storeRevision)
        {
            unsynced.Remove(watcher);
            JoinSynced(watcher);
            return false;
        }

        return watcher.HasRoomFor(1, 0);
    }

    private static void Collect(ref Dictionary<WatcherGroup, (List<Event> Events, long Bytes)>? matched, WatcherGroup group, ShapedEvent ev)
    {
        if (!Watcher.Matches(group.Options, ev.Full))
        {
            return;
        }

        matched ??= [];
        bool prevKv = group.Options.PrevKv;
        if (matched.TryGetValue(group, out var entry))
        {
            entry.Events.Add(ev.For(prevKv));
            matched[group] = (entry.Events, entry.Bytes + ev.SizeFor(prevKv));
        }
        else
        {
            matched[group] = ([ev.For(prevKv)], ev.SizeFor(prevKv));
        }
    }

    /// <summary>Synced watchers with equal requests (their start revisions aside).</summary>
    private sealed class WatcherGroup(WatchOptions options)
    {
        public WatchOptions Options { get; } = options;

        public List<Watcher> Members { get; } = [];
    }

    /// <summary>An event as watchers see it: whole, or without prev_kv (events are shared, so that is a copy), with sizes.</summary>
    private sealed class ShapedEvent(Event full)
    {
        private Event? withoutPrev;
        private int fullSize = -1;
        private int strippedSize = -1;

        public Event Full { get; } = full;

        public Event For(bool prevKv) => prevKv || Full.PrevKv is null ? Full : withoutPrev ??= new Event { Type = Full.Type, Kv = Full.Kv };

        public int SizeFor(bool prevKv)
        {
            if (prevKv || Full.PrevKv is null)
            {
                return fullSize >= 0 ? fullSize : fullSize = Full.CalculateSize();
            }

            return strippedSize >= 0 ? strippedSize : strippedSize = For(false).CalculateSize();
        }
    }

    private void JoinSynced(Watcher watcher)
    {
        watcher.Synced = true;
        var key = watcher.Options with { StartRevision = 0 };
        if (!groups.TryGetValue(key, out var group))
        {
            groups[key] = group = new WatcherGroup(key);
            if (KeyRange.IsSingleKey(key.RangeEnd))
            {
                if (!syncedKeys.TryGetValue(key.Key, out var list))
                {
                    syncedKeys[key.Key] = list = [];
                }

                list.Add(group);
            }
            else
            {
                syncedRanges.Add(group);
            }
        }

        group.Members.Add(watcher);
    }

    private void Detach(Watcher watcher)
    {
        if (!watcher.Synced)
        {
            unsynced.Remove(watcher);
            return;
        }

        watcher.Synced = false;
        var key = watcher.Options with { StartRevision = 0 };
        if (!groups.TryGetValue(key, out var group) || !group.Members.Remove(watcher) || group.Members.Count > 0)
        {
            return;
        }

        groups.Remove(key);
        if (KeyRange.IsSingleKey(key.RangeEnd))
        {
            if (syncedKeys.TryGetValue(key.Key, out var list) && list.Remove(group) && list.Count == 0)
            {
                syncedKeys.Remove(key.Key);
            }
        }
        else
        {
            syncedRanges.Remove(group);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
