using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Index;

namespace Bulwark.Kv.Watch;

/// <summary>
/// One watcher registered with a <see cref="WatchHub"/>: its request, where its deliveries go (<see cref="Queue"/>,
/// shared with the other watchers of its stream, or its own), and where it stands (live or catching up).
/// </summary>
public sealed class Watcher
{
    // Written under the hub's lock; read by the consumer's thread too.
    private volatile bool synced;
    private volatile bool closed;
    private int pending;

    internal Watcher(long id, WatchOptions options, WatchQueue queue, bool ownsQueue, long nextRevision)
    {
        Id = id;
        Options = options;
        Queue = queue;
        OwnsQueue = ownsQueue;
        NextRevision = nextRevision;
    }

    public long Id { get; }

    public WatchOptions Options { get; }

    /// <summary>Where this watcher's deliveries are queued.</summary>
    public WatchQueue Queue { get; }

    /// <summary>The queue is this watcher's alone (closed with it).</summary>
    internal bool OwnsQueue { get; }

    /// <summary>True once the watcher was canceled or ended by compaction: nothing more will be queued for it.</summary>
    public bool IsClosed => closed;

    /// <summary>
    /// True when the watcher has been handed everything up to the revision the hub last published (nothing of it queued,
    /// not catching up): the moment a progress notification may report that revision.
    /// </summary>
    public bool IsIdle => Volatile.Read(ref pending) == 0 && synced;

    /// <summary>Deliveries of this watcher in its queue (changed under the queue's lock).</summary>
    internal int Pending
    {
        get => Volatile.Read(ref pending);
        set => Volatile.Write(ref pending, value);
    }

    // Guarded by the hub's lock.
    internal long NextRevision { get; set; }

    /// <summary>True while the hub hands this watcher live events; false while it catches up from history.</summary>
    internal bool Synced
    {
        get => synced;
        set => synced = value;
    }

    internal bool Matches(Event ev) => Matches(Options, ev);

    internal static bool Matches(WatchOptions options, Event ev) =>
        KeyRange.Contains(options.Key.Span, options.RangeEnd, ev.Kv.Key.Span)
        && !(options.NoPut && ev.Type == Event.Types.EventType.Put)
        && !(options.NoDelete && ev.Type == Event.Types.EventType.Delete);

    internal bool HasRoomFor(int events, long bytes) => !closed && Queue.HasRoomFor(events, bytes);

    internal void Enqueue(WatchDelivery delivery, bool close = false, bool wake = true)
    {
        if (closed)
        {
            return;
        }

        Queue.Enqueue(this, delivery, wake);
        if (close)
        {
            Close();
        }
    }

    internal void Close()
    {
        closed = true;
        if (OwnsQueue)
        {
            Queue.Close();
        }
    }

    /// <summary>Takes this watcher's next delivery (a watcher with a queue of its own).</summary>
    public bool TryRead(out WatchDelivery delivery)
    {
        EnsureOwnQueue();
        if (Queue.TryRead(out _, out delivery))
        {
            return true;
        }

        delivery = null!;
        return false;
    }

    /// <summary>Waits for this watcher's next delivery; null when it is closed and drained (a watcher with a queue of its own).</summary>
    public async ValueTask<WatchDelivery?> ReadAsync(CancellationToken cancel)
    {
        EnsureOwnQueue();
        while (await Queue.WaitToReadAsync(cancel).ConfigureAwait(false))
        {
            if (Queue.TryRead(out _, out var delivery))
            {
                return delivery;
            }
        }

        return null;
    }

    private void EnsureOwnQueue()
    {
        if (!OwnsQueue)
        {
            throw new InvalidOperationException("this watcher shares its stream's queue: read the queue, not the watcher");
        }
    }
}
