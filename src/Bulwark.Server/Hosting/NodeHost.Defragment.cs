using System.Runtime;
using Bulwark.Consensus;
using Bulwark.Storage;

namespace Bulwark.Server.Hosting;

/// <summary>Maintenance.Defragment on this member (local, not replicated, as etcd's).</summary>
public sealed partial class NodeHost
{
    private readonly Lock defragmentLock = new();
    private Task<DefragmentReport> lastDefragment = Task.FromResult(new DefragmentReport(0, 0, 0, 0, 0, 0));

    /// <summary>
    /// Reclaims space on this member: writes a snapshot at the applied index now (the apply worker's snapshot path),
    /// has the loop compact the core and release the log to it (keeping the catch-up entries; the WAL deletes the
    /// segments below them), deletes the older snapshot files, then runs a blocking compacting collection of the whole
    /// .NET heap, large objects included, so memory that an MVCC compaction freed goes back to the system. Returns
    /// when all of that is done. Calls run one at a time, in arrival order; a caller that gives up stops waiting, not
    /// the run. Writes go on meanwhile: they queue behind the snapshot on the apply thread, as behind any snapshot.
    /// </summary>
    /// <exception cref="DiskFullException">No room for the snapshot or the log's release marker; nothing was lost and the member keeps serving.</exception>
    /// <exception cref="NodeException">The node stopped (<see cref="NodeError.Stopped"/>).</exception>
    public Task<DefragmentReport> DefragmentAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        Task<DefragmentReport> run;
        lock (defragmentLock)
        {
            run = RunAfterAsync(lastDefragment);
            lastDefragment = run;
        }

        return run.WaitAsync(cancellationToken);
    }

    private async Task<DefragmentReport> RunAfterAsync(Task previous)
    {
        try
        {
            await previous.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The previous run's caller got its error; this run starts afresh.
        }

        try
        {
            return await DefragmentNowAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is DiskFullException or NodeException)
        {
            DefragmentLog.Failed(logger, options.NodeId, e.Message);
            throw;
        }
    }

    private async Task<DefragmentReport> DefragmentNowAsync()
    {
        ThrowIfStopped();
        var diskBefore = storage.DiskBytes;
        var heapBefore = GC.GetGCMemoryInfo().HeapSizeBytes;

        var written = new TaskCompletionSource<SnapshotMetadata>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new HostInput.SnapshotNow(written));
        var snapshot = await UntilStoppedAsync(written.Task).ConfigureAwait(false);

        var deleted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new HostInput.CompactToSnapshot(snapshot, deleted));
        var snapshotsDeleted = await UntilStoppedAsync(deleted.Task).ConfigureAwait(false);

        // The store lives in the heap: this is where an MVCC compaction's freed history is given back. Blocking and
        // compacting (the Aggressive mode also decommits the freed segments), the large object heap included once.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var report = new DefragmentReport(snapshot.Index, diskBefore, storage.DiskBytes, snapshotsDeleted, heapBefore,
            GC.GetGCMemoryInfo().HeapSizeBytes);
        DefragmentLog.Finished(logger, options.NodeId, report.SnapshotIndex, report.DiskBytesBefore, report.DiskBytesAfter,
            report.SnapshotsDeleted, report.HeapBytesBefore, report.HeapBytesAfter);
        return report;
    }

    /// <summary>Called on the apply worker just before it writes any snapshot, with its index (tests hold it there).</summary>
    internal Action<ulong>? BeforeSnapshotWrite
    {
        get => processor.BeforeSnapshotWrite;
        set => processor.BeforeSnapshotWrite = value;
    }

    /// <summary>Loop side of the second step: its answer (or error) goes to the waiting defragment.</summary>
    private void CompactToDefragmentSnapshot(HostInput.CompactToSnapshot compact)
    {
        try
        {
            compact.Deleted.TrySetResult(processor.CompactToDefragmentSnapshot(compact.Snapshot));
        }
        catch (DiskFullException e)
        {
            compact.Deleted.TrySetException(e);
        }
        catch (Exception e)
        {
            // The loop fails stop on it (the worker failed, or a file could not be deleted): the caller hears why.
            compact.Deleted.TrySetException(e);
            throw;
        }
    }

    /// <summary>Waits for a step the loop or the worker completes, or fails as stopped if the node stops first.</summary>
    private async Task<T> UntilStoppedAsync<T>(Task<T> step)
    {
        await Task.WhenAny(step, completion.Task).ConfigureAwait(false);
        if (!step.IsCompleted)
        {
            throw StoppedError();
        }

        return await step.ConfigureAwait(false);
    }
}
