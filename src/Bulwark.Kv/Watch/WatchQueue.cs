namespace Bulwark.Kv.Watch;

/// <summary>
/// Deliveries waiting for one consumer, in the order the hub queued them: the watchers of one gRPC stream share one
/// (as etcd's watch stream has one channel), so the stream's single writer drains them with no task per watcher.
/// Bounded in events and in bytes: when it is full the hub stops queueing for the watchers that would overflow it,
/// and they catch up from history once the consumer has made room, so a stalled client costs this queue's memory only.
/// </summary>
public sealed class WatchQueue
{
    private readonly int capacityEvents;
    private readonly long capacityBytes;
    private readonly Lock gate = new();
    private readonly Queue<(Watcher Watcher, WatchDelivery Delivery)> items = new();
    private int queuedEvents;
    private long queuedBytes;
    private bool closed;
    private bool nudged;
    private TaskCompletionSource? reader;

    public WatchQueue(int capacityEvents = WatchHub.DefaultQueueEvents, long capacityBytes = WatchHub.DefaultQueueBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityEvents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        this.capacityEvents = capacityEvents;
        this.capacityBytes = capacityBytes;
    }

    /// <summary>Deliveries waiting.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return items.Count;
            }
        }
    }

    /// <summary>Called when the consumer takes a delivery of a catching-up watcher (the hub then resumes its catch-up).</summary>
    internal Action? RoomMade { get; set; }

    /// <summary>
    /// Whether a delivery of <paramref name="events"/> events of <paramref name="bytes"/> bytes fits. An empty queue takes
    /// anything, so one Txn larger than the capacity is still delivered.
    /// </summary>
    internal bool HasRoomFor(int events, long bytes)
    {
        lock (gate)
        {
            return !closed && (items.Count == 0 || (queuedEvents + Math.Max(events, 1) <= capacityEvents && queuedBytes + bytes <= capacityBytes));
        }
    }

    /// <summary>Queues the delivery if it fits (one lock for the check and the queueing); false when it does not.</summary>
    internal bool TryEnqueue(Watcher watcher, WatchDelivery delivery)
    {
        lock (gate)
        {
            int events = Math.Max(delivery.Events.Count, 1);
            if (closed || (items.Count > 0 && (queuedEvents + events > capacityEvents || queuedBytes + delivery.Bytes > capacityBytes)))
            {
                return false;
            }

            items.Enqueue((watcher, delivery));
            queuedEvents += events;
            queuedBytes += delivery.Bytes;
            watcher.Pending++;
            return true;
        }
    }

    /// <param name="wake">Wake a waiting consumer now; the hub passes false while it queues a whole revision's
    /// deliveries and calls <see cref="Wake"/> once at the end, so a consumer is not woken (a thread-pool hop) per delivery.</param>
    internal void Enqueue(Watcher watcher, WatchDelivery delivery, bool wake = true)
    {
        lock (gate)
        {
            if (closed)
            {
                return;
            }

            items.Enqueue((watcher, delivery));
            queuedEvents += Math.Max(delivery.Events.Count, 1);
            queuedBytes += delivery.Bytes;
            watcher.Pending++;
        }

        if (wake)
        {
            Wake();
        }
    }

    /// <summary>Wakes a consumer waiting for deliveries, if one is.</summary>
    internal void Wake()
    {
        TaskCompletionSource? wake;
        lock (gate)
        {
            if (items.Count == 0)
            {
                return;
            }

            wake = reader;
            reader = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>Takes the next delivery and the watcher it is for, if one is queued.</summary>
    public bool TryRead(out Watcher watcher, out WatchDelivery delivery)
    {
        lock (gate)
        {
            if (!items.TryDequeue(out var item))
            {
                watcher = null!;
                delivery = null!;
                return false;
            }

            (watcher, delivery) = item;
            queuedEvents -= Math.Max(delivery.Events.Count, 1);
            queuedBytes -= delivery.Bytes;
            watcher.Pending--;
        }

        if (!watcher.Synced)
        {
            RoomMade?.Invoke(); // it is catching up and its consumer just made room: let the sync loop go on with it
        }

        return true;
    }

    /// <summary>
    /// Waits until a delivery is queued or <see cref="Nudge"/> was called (true; the queue may then be empty), or the
    /// queue is closed and drained (false).
    /// </summary>
    public async ValueTask<bool> WaitToReadAsync(CancellationToken cancel)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (items.Count > 0)
                {
                    return true;
                }

                if (nudged)
                {
                    nudged = false;
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

    /// <summary>Takes nothing more; the consumer reads what is queued, then <see cref="WaitToReadAsync"/> answers false.</summary>
    public void Close()
    {
        TaskCompletionSource? wake;
        lock (gate)
        {
            closed = true;
            wake = reader;
            reader = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>Wakes a waiting consumer without a delivery (it has other work to look at, e.g. a control response).</summary>
    public void Nudge()
    {
        TaskCompletionSource? wake;
        lock (gate)
        {
            nudged = true;
            wake = reader;
            reader = null;
        }

        wake?.TrySetResult();
    }
}
