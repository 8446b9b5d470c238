using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>The apply worker's part of Maintenance.Defragment: a snapshot at the applied index, on demand.</summary>
internal sealed partial class ApplyWorker
{
    /// <summary>
    /// Writes a snapshot of everything applied so far (the same path as the threshold's, so the store is serialized
    /// without its lock while readers go on; writes wait in the queue behind this work item, as they wait behind a
    /// threshold snapshot) and reports it to the loop, then completes <paramref name="written"/>. A snapshot already at
    /// the applied index is reported again rather than rewritten. A full disk fails only this request: the member keeps
    /// serving, and the threshold snapshots keep their own NOSPACE handling.
    /// </summary>
    private void SnapshotNow(TaskCompletionSource<SnapshotMetadata> written)
    {
        try
        {
            if (storage.NewestSnapshot is { } newest && newest.Index == applied && newest.Term == appliedTerm)
            {
                lastSnapshotIndex = applied;
                snapshotWritten(newest);
                written.TrySetResult(newest);
                return;
            }

            written.TrySetResult(WriteSnapshotAtApplied());
        }
        catch (Bulwark.Storage.DiskFullException e)
        {
            HostLog.SnapshotNoSpace(logger, applied, e.Message);
            written.TrySetException(e);
        }
        catch (Exception e)
        {
            // Anything else stops the worker as a failed threshold snapshot would (fail-stop); the caller hears why first.
            written.TrySetException(e);
            throw;
        }
    }
}
