using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>The apply worker's part of Maintenance.Defragment: a snapshot at the applied index, on demand.</summary>
internal sealed partial class ApplyWorker
{
    /// <summary>
    /// Starts a snapshot of everything applied so far (the same path as the threshold's: written by its own thread while
    /// entries keep being applied) and completes <paramref name="written"/> once it is durable and reported to the loop.
    /// While another snapshot is being written the request waits for it to end and then asks again, so two defragments
    /// run one after the other. A snapshot already at the applied index is reported again rather than rewritten. A full
    /// disk fails only this request: the member keeps serving, and the threshold snapshots keep their own NOSPACE handling.
    /// </summary>
    private void SnapshotNow(TaskCompletionSource<SnapshotMetadata> written)
    {
        if (snapshotInProgress is not null)
        {
            defragmentsWaiting.Add(written);
            return;
        }

        try
        {
            if (storage.NewestSnapshot is { } newest && newest.Index == applied && newest.Term == appliedTerm)
            {
                lastSnapshotIndex = applied;
                snapshotWritten(newest);
                written.TrySetResult(newest);
                return;
            }

            StartSnapshot(forThreshold: false, written);
        }
        catch (Exception e)
        {
            // Inline (simulator) a failure surfaces here: the caller hears why first, then the worker stops (fail-stop)
            // unless the disk was full, which FinishSnapshot already answered without throwing.
            written.TrySetException(e);
            throw;
        }
    }

    /// <summary>Once no snapshot is being written, the defragments that waited for one ask again, oldest first.</summary>
    private void StartWaitingDefragment()
    {
        while (snapshotInProgress is null && defragmentsWaiting.Count > 0)
        {
            var next = defragmentsWaiting[0];
            defragmentsWaiting.RemoveAt(0);
            SnapshotNow(next);
        }
    }
}
