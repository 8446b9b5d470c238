using System.Collections.Concurrent;

namespace Bulwark.Server.Hosting;

/// <summary>
/// A multi-producer, single-consumer queue for a dedicated thread that sleeps without spinning.
/// </summary>
/// <remarks>
/// Replaces <c>BlockingCollection</c> on the apply worker: its <c>SemaphoreSlim</c> spins with <c>sched_yield</c>
/// before it blocks, and on 2 cores under write load that spinning (and the context switches it causes) was about
/// 4-8 % of the leader's CPU in a perf profile, time taken from Kestrel and the Raft loop. Here the consumer
/// re-checks the queue after resetting the signal, so a wake-up is never lost, and then sleeps on the kernel at once.
/// </remarks>
internal sealed class WorkQueue<T>
{
    private readonly ConcurrentQueue<T> items = new();
    // Never disposed: a producer racing with Complete may still Set it (it waits by Monitor, with no kernel handle).
    private readonly ManualResetEventSlim signal = new(false, spinCount: 0);
    private volatile bool completed;

    /// <summary>True once <see cref="Complete"/> was called: <see cref="Add"/> drops new items.</summary>
    public bool IsCompleted => completed;

    /// <summary>Adds an item; false (dropped) after <see cref="Complete"/>.</summary>
    public bool Add(T item)
    {
        if (completed)
        {
            return false;
        }

        items.Enqueue(item);
        signal.Set();
        return true;
    }

    /// <summary>No more items: the consumer drains what is queued, then <see cref="TryTake"/> returns false.</summary>
    public void Complete()
    {
        completed = true;
        signal.Set();
    }

    /// <summary>Waits for the next item (consumer only); false once completed and drained.</summary>
    public bool TryTake(out T item)
    {
        while (true)
        {
            if (items.TryDequeue(out item!))
            {
                return true;
            }

            if (completed)
            {
                // An item added just before Complete is still taken.
                return items.TryDequeue(out item!);
            }

            signal.Reset();
            if (items.TryDequeue(out item!))
            {
                return true;
            }

            if (!completed)
            {
                signal.Wait();
            }
        }
    }
}
