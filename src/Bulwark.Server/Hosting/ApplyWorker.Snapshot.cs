using System.Runtime.ExceptionServices;
using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The apply worker's store snapshots, off the write path: the worker begins one between two batches (capturing the
/// small state and a <see cref="Bulwark.Kv.Snapshots.PointInTimeSnapshot"/> of the store under the store lock), a thread
/// of its own streams it to disk reading the store chunk by chunk under the same lock, and the worker, told through its
/// queue, ends it and only then reports it to the loop, which compacts the log once the file is durable. Entries keep
/// being applied and answered meanwhile. One at a time; with <see cref="HostDriver.InlineApply"/> (the simulator) it is
/// written on the spot by the same code, so runs stay deterministic.
/// </summary>
internal sealed partial class ApplyWorker
{
    private SnapshotInProgress? snapshotInProgress;
    private readonly List<TaskCompletionSource<SnapshotMetadata>> defragmentsWaiting = [];

    /// <summary>Starts a snapshot when <see cref="NodeHostOptions.SnapshotThreshold"/> entries were applied since the last one.</summary>
    private void MaybeSnapshot(bool retry)
    {
        if (snapshotInProgress is not null)
        {
            return; // never two at once; the threshold is checked again when this one ends
        }

        if (diskFull.SnapshotBlocked && !retry)
        {
            return; // the disk was full: a retry comes from the loop's backoff, not from every applied batch
        }

        if (applied - lastSnapshotIndex < options.SnapshotThreshold)
        {
            SnapshotUnblocked();
            return;
        }

        if (storage.NewestSnapshot is { } newest && newest.Index >= applied)
        {
            lastSnapshotIndex = newest.Index;
            SnapshotUnblocked();
            return;
        }

        StartSnapshot(forThreshold: true, requester: null);
    }

    /// <summary>Begins a snapshot at the applied index and sets its writer going (or writes it now, inline).</summary>
    private void StartSnapshot(bool forThreshold, TaskCompletionSource<SnapshotMetadata>? requester)
    {
        BeforeSnapshotWrite?.Invoke(applied);
        var metadata = new SnapshotMetadata(applied, appliedTerm, appliedConfig);
        SnapshotInProgress snapshot;
        lock (storeLock)
        {
            // Under the lock: beginning may carry out compaction deferred by the previous snapshot, which readers must not see half done.
            var store = kv.Store;
            snapshot = new SnapshotInProgress(metadata, members.Serialize(), store, store.BeginPointInTimeSnapshot(), forThreshold);
        }

        if (requester is not null)
        {
            snapshot.Requesters.Add(requester);
        }

        snapshotInProgress = snapshot;
        if (thread is null)
        {
            WriteSnapshotFile(snapshot);
            FinishSnapshot(snapshot);
            return;
        }

        snapshot.Writer = new Thread(() =>
        {
            WriteSnapshotFile(snapshot);
            queue.Add(new ApplyWork.SnapshotWritten(snapshot));
        })
        {
            IsBackground = true,
            Name = $"bulwark-snapshot-{options.NodeId:x}",
        };
        snapshot.Writer.Start();
    }

    /// <summary>The writer's part (any thread): streams the snapshot to a new file; a failure is kept for the worker.</summary>
    private void WriteSnapshotFile(SnapshotInProgress snapshot)
    {
        try
        {
            var hook = BetweenSnapshotChunks;
            var index = snapshot.Metadata.Index;
            Action? betweenChunks = hook is null ? null : () => hook(index);
            storage.WriteSnapshot(snapshot.Metadata, stream =>
            {
                SnapshotPayload.Write(stream, snapshot.MembersJson, kvStream => snapshot.StoreSnapshot.WriteTo(kvStream, storeLock, betweenChunks));
                snapshot.Bytes = stream.Length;
            });
        }
        catch (Exception e)
        {
            snapshot.Error = e;
        }
    }

    /// <summary>
    /// Ends a written (or failed) snapshot on the worker: the store does the compaction it deferred, then the snapshot is
    /// reported to the loop (which compacts the log to it) and to the defragment calls waiting for it. A full disk raises
    /// NOSPACE for a threshold snapshot (the loop asks for a retry) and fails only the request for a defragment's; any
    /// other failure stops the worker (fail-stop), as a failed snapshot always did.
    /// </summary>
    private void FinishSnapshot(SnapshotInProgress snapshot)
    {
        snapshotInProgress = null;
        lock (storeLock)
        {
            snapshot.Store.EndPointInTimeSnapshot(snapshot.StoreSnapshot);
        }

        var metadata = snapshot.Metadata;
        if (snapshot.Error is Bulwark.Storage.DiskFullException full)
        {
            // The writer removed its temp file; the log keeps everything, so nothing is lost by trying later.
            HostLog.SnapshotNoSpace(logger, metadata.Index, full.Message);
            snapshot.Requesters.ForEach(r => r.TrySetException(full));
            if (snapshot.ForThreshold)
            {
                diskFull.SnapshotWriteFailed(full.Message);
                wake();
            }

            return;
        }

        if (snapshot.Error is { } error)
        {
            snapshot.Requesters.ForEach(r => r.TrySetException(error));
            ExceptionDispatchInfo.Throw(error);
        }

        SnapshotUnblocked();
        lastSnapshotIndex = Math.Max(lastSnapshotIndex, metadata.Index);
        HostLog.SnapshotTaken(logger, metadata.Index, metadata.Term, snapshot.Bytes);
        options.Observer?.SnapshotTaken(metadata.Index, snapshot.Bytes, System.Diagnostics.Stopwatch.GetElapsedTime(snapshot.StartedTimestamp));
        snapshotWritten(metadata);
        snapshot.Requesters.ForEach(r => r.TrySetResult(metadata));
    }

    /// <summary>Waits for the snapshot being written, if any, and ends it here (before the store is replaced).</summary>
    private void AwaitSnapshotInProgress()
    {
        if (snapshotInProgress is { } snapshot)
        {
            snapshot.Writer?.Join();
            FinishSnapshot(snapshot); // its SnapshotWritten, still queued, is then ignored
        }
    }

    private void SnapshotUnblocked() => diskFull.SnapshotNotBlocked();
}
