using System.Collections.Concurrent;
using Bulwark.Kv;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Client calls waiting on the node loop: proposals by request id (completed when this node applies the entry with
/// that id) and linearizable reads by read id (completed once the applied index reaches the confirmed read index).
/// API threads register and wait; the Raft loop confirms read points and fails refused calls; the apply worker
/// completes proposals and reads as it applies. Reads waiting for the applied index are guarded by one lock, which also
/// holds the newest applied index, so a read confirmed on the loop just as the worker moves on is never left behind.
/// </summary>
public sealed class PendingRequests
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ApplyResult>> proposals = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ulong>> reads = new();
    // Membership changes waiting for their entry to apply: kept apart from reads, which the loop asks again after a
    // leader change (a change must never be mistaken for a read point).
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ulong>> changes = new();
    private readonly PriorityQueue<TaskCompletionSource<ulong>, ulong> readsAwaitingApply = new();
    private readonly Lock applyLock = new();
    private ulong appliedIndex;
    private long nextId;

    /// <param name="firstId">Ids start here; seeding from the clock keeps ids of a restarted node apart from the last run's.</param>
    public PendingRequests(ulong firstId) => nextId = (long)(firstId & 0x3FFF_FFFF_FFFF_FFFF);

    public int ProposalCount => proposals.Count;

    public int ReadCount => reads.Count;

    /// <summary>Reads whose read point is not confirmed yet (to ask again after a leader change).</summary>
    public IReadOnlyList<ulong> UnconfirmedReads => [.. reads.Keys];

    public ulong NextId() => (ulong)Interlocked.Increment(ref nextId);

    public Task<ApplyResult> RegisterProposal(ulong requestId)
    {
        var tcs = new TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!proposals.TryAdd(requestId, tcs))
        {
            throw new InvalidOperationException($"request id {requestId} is already waiting");
        }

        return tcs.Task;
    }

    public Task<ulong> RegisterRead(ulong readId)
    {
        var tcs = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!reads.TryAdd(readId, tcs))
        {
            throw new InvalidOperationException($"read id {readId} is already waiting");
        }

        return tcs.Task;
    }

    /// <summary>
    /// True while the caller of a proposal or read still waits for it. Work whose caller has gone (timed out, cancelled)
    /// is dropped before it reaches the core: proposing it would write an entry nobody is told about.
    /// </summary>
    public bool IsWaiting(ulong id) => proposals.ContainsKey(id) || reads.ContainsKey(id) || changes.ContainsKey(id);

    /// <summary>A membership change's caller waits under <paramref name="changeId"/> until the change's entry applies.</summary>
    public Task<ulong> RegisterChange(ulong changeId)
    {
        var tcs = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!changes.TryAdd(changeId, tcs))
        {
            throw new InvalidOperationException($"change id {changeId} is already waiting");
        }

        return tcs.Task;
    }

    /// <summary>The change was appended at <paramref name="index"/>: complete once that index is applied.</summary>
    public void ChangeProposed(ulong changeId, ulong index, ulong applied)
    {
        if (changes.TryRemove(changeId, out var tcs))
        {
            CompleteWhenApplied(tcs, index, applied);
        }
    }

    public void FailChange(ulong changeId, Exception error)
    {
        if (changes.TryRemove(changeId, out var tcs))
        {
            tcs.TrySetException(error);
        }
    }

    /// <summary>The caller gave up (timeout or cancellation).</summary>
    public void Forget(ulong id)
    {
        proposals.TryRemove(id, out _);
        reads.TryRemove(id, out _);
        changes.TryRemove(id, out _);
    }

    public void CompleteProposal(ApplyResult result)
    {
        if (proposals.TryRemove(result.RequestId, out var tcs))
        {
            tcs.TrySetResult(result);
        }
    }

    public void FailProposal(ulong requestId, Exception error)
    {
        if (proposals.TryRemove(requestId, out var tcs))
        {
            tcs.TrySetException(error);
        }
    }

    public void FailRead(ulong readId, Exception error)
    {
        if (reads.TryRemove(readId, out var tcs))
        {
            tcs.TrySetException(error);
        }
    }

    /// <summary>A read point was confirmed: complete now if applied is far enough, else when it gets there.</summary>
    public void ReadConfirmed(ulong readId, ulong readIndex, ulong applied)
    {
        if (reads.TryRemove(readId, out var tcs))
        {
            CompleteWhenApplied(tcs, readIndex, applied);
        }
    }

    private void CompleteWhenApplied(TaskCompletionSource<ulong> tcs, ulong readIndex, ulong applied)
    {
        lock (applyLock)
        {
            if (readIndex <= Math.Max(applied, appliedIndex))
            {
                tcs.TrySetResult(readIndex);
            }
            else
            {
                readsAwaitingApply.Enqueue(tcs, readIndex);
            }
        }
    }

    /// <summary>Completes the reads whose read index is now applied.</summary>
    public void Applied(ulong applied)
    {
        lock (applyLock)
        {
            appliedIndex = Math.Max(appliedIndex, applied);
            while (readsAwaitingApply.TryPeek(out var tcs, out var index) && index <= appliedIndex)
            {
                readsAwaitingApply.Dequeue();
                tcs.TrySetResult(index);
            }
        }
    }

    /// <summary>Fails every waiting call (the node is stopping).</summary>
    public void FailAll(Exception error)
    {
        foreach (var id in proposals.Keys)
        {
            FailProposal(id, error);
        }

        foreach (var id in reads.Keys)
        {
            FailRead(id, error);
        }

        foreach (var id in changes.Keys)
        {
            FailChange(id, error);
        }

        lock (applyLock)
        {
            while (readsAwaitingApply.TryDequeue(out var tcs, out _))
            {
                tcs.TrySetException(error);
            }
        }
    }
}
