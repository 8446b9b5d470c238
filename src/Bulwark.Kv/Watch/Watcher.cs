using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Index;

namespace Bulwark.Kv.Watch;

/// <summary>
/// One watcher registered with a <see cref="WatchHub"/>: its request and a bounded queue of deliveries that its
/// consumer (a gRPC stream) drains with <see cref="ReadAsync"/> or <see cref="TryRead"/>. The queue holds at most the
/// hub's capacity in events; when the consumer falls behind, the hub stops queueing and the watcher later catches up
/// from the store's history, so a stalled client costs memory for its queue only.
/// </summary>
public sealed class Watcher
{
    private readonly WatchHub hub;
    private readonly int capacity;
    private readonly Lock queueGate = new();
    private readonly Queue<WatchDelivery> queue = new();
    private int queuedEvents;
    private bool closed;
    private TaskCompletionSource? reader;

    internal Watcher(WatchHub hub, long id, WatchOptions options, int capacity, long nextRevision)
    {
        this.hub = hub;
        this.capacity = capacity;
        Id = id;
        Options = options;
        NextRevision = nextRevision;
    }

    public long Id { get; }

    public WatchOptions Options { get; }

    /// <summary>True once the watcher was canceled or ended by compaction: nothing more will be queued.</summary>
    public bool IsClosed
    {
        get
        {
            lock (queueGate)
            {
                return closed;
            }
        }
    }

    /// <summary>
    /// True when the watcher has been handed everything up to the revision the hub last published (nothing queued,
    /// not catching up): the moment a progress notification may report the member's revision.
    /// </summary>
    public bool IsIdle
    {
        get
        {
            lock (queueGate)
            {
                return queue.Count == 0 && Synced;
            }
        }
    }

    // Guarded by the hub's lock.
    internal long NextRevision { get; set; }

    // Written under the hub's lock; read by the consumer's thread too.
    private volatile bool synced;

    /// <summary>True while the hub hands this watcher live events; false while it catches up from history.</summary>
    internal bool Synced
    {
        get => synced;
        set => synced = value;
    }

    internal bool Matches(Event ev) =>
        KeyRange.Contains(Options.Key.Span, Options.RangeEnd, ev.Kv.Key.Span)
        && !(Options.NoPut && ev.Type == Event.Types.EventType.Put)
        && !(Options.NoDelete && ev.Type == Event.Types.EventType.Delete);

    /// <summary>The event as this watcher should see it: events are shared between watchers, so prev_kv is dropped on a copy.</summary>
    internal Event Shape(Event ev) => Options.PrevKv || ev.PrevKv is null ? ev : new Event { Type = ev.Type, Kv = ev.Kv };

    /// <summary>
    /// Whether a delivery of <paramref name="events"/> fits. An empty queue takes anything, so one Txn larger than the
    /// capacity is still delivered.
    /// </summary>
    internal bool HasRoomFor(int events)
    {
        lock (queueGate)
        {
            return !closed && (queue.Count == 0 || queuedEvents + Math.Max(events, 1) <= capacity);
        }
    }

    internal void Enqueue(WatchDelivery delivery, bool close = false)
    {
        TaskCompletionSource? wake;
        lock (queueGate)
        {
            if (closed)
            {
                return;
            }

            queue.Enqueue(delivery);
            queuedEvents += Math.Max(delivery.Events.Count, 1);
            closed = close;
            wake = reader;
            reader = null;
        }

        wake?.TrySetResult();
    }

    internal void Close()
    {
        TaskCompletionSource? wake;
        lock (queueGate)
        {
            closed = true;
            wake = reader;
            reader = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>Takes the next delivery if one is queued.</summary>
    public bool TryRead(out WatchDelivery delivery)
    {
        bool freed;
        lock (queueGate)
        {
            if (!queue.TryDequeue(out delivery!))
            {
                return false;
            }

            queuedEvents -= Math.Max(delivery.Events.Count, 1);
            freed = !Synced;
        }

        if (freed)
        {
            // The watcher is catching up and its consumer just made room: let the hub's sync loop go on with it.
            hub.SignalSyncWork();
        }

        return true;
    }

    /// <summary>
    /// Waits for the next delivery. Returns null when the watcher is closed and its queue is drained (canceled, or
    /// after its compaction notice).
    /// </summary>
    public async ValueTask<WatchDelivery?> ReadAsync(CancellationToken cancel)
    {
        while (true)
        {
            if (TryRead(out var delivery))
            {
                return delivery;
            }

            Task wait;
            lock (queueGate)
            {
                if (queue.Count > 0)
                {
                    continue;
                }

                if (closed)
                {
                    return null;
                }

                reader ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = reader.Task;
            }

            await wait.WaitAsync(cancel).ConfigureAwait(false);
        }
    }
}
