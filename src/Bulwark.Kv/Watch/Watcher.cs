using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Index;

namespace Bulwark.Kv.Watch;

/// <summary>
/// One watcher registered with a <see cref="WatchHub"/>: its request and a bounded queue of deliveries that its
/// consumer (a gRPC stream) drains with <see cref="ReadAsync"/> or <see cref="TryRead"/>. The queue holds at most the
/// hub's capacity in events and in bytes; when the consumer falls behind, the hub stops queueing and the watcher later catches up
/// from the store's history, so a stalled client costs memory for its queue only.
/// </summary>
public sealed class Watcher
{
    private readonly WatchHub hub;
    private readonly int capacity;
    private readonly long capacityBytes;
    private readonly Lock queueGate = new();
    private readonly Queue<WatchDelivery> queue = new();
    private int queuedEvents;
    private long queuedBytes;
    private bool closed;
    private TaskCompletionSource? reader;

    internal Watcher(WatchHub hub, long id, WatchOptions options, int capacity, long capacityBytes, long nextRevision)
    {
        this.hub = hub;
        this.capacity = capacity;
        this.capacityBytes = capacityBytes;
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
    /// Whether a delivery of <paramref name="events"/> events of <paramref name="bytes"/> bytes fits. An empty queue takes
    /// anything, so one Txn larger than the capacity is still delivered.
    /// </summary>
    internal bool HasRoomFor(int events, long bytes)
    {
        lock (queueGate)
        {
            return !closed && (queue.Count == 0 || (queuedEvents + Math.Max(events, 1) <= capacity && queuedBytes + bytes <= capacityBytes));
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
            queuedBytes += delivery.Bytes;
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
            queuedBytes -= delivery.Bytes;
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
    /// Waits until a delivery is queued (true) or the watcher is closed with nothing left to read (false: canceled, or
    /// after its compaction notice was read).
    /// </summary>
    public async ValueTask<bool> WaitToReadAsync(CancellationToken cancel)
    {
        while (true)
        {
            Task wait;
            lock (queueGate)
            {
                if (queue.Count > 0)
                {
                    return true;
                }

                if (closed)
                {
                    return false;
                }

                reader ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = reader.Task;
            }

            await wait.WaitAsync(cancel).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the next delivery; null when the watcher is closed and its queue drained.</summary>
    public async ValueTask<WatchDelivery?> ReadAsync(CancellationToken cancel)
    {
        while (await WaitToReadAsync(cancel).ConfigureAwait(false))
        {
            if (TryRead(out var delivery))
            {
                return delivery;
            }
        }

        return null;
    }
}
