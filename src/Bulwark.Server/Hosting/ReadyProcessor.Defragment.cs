using Bulwark.Consensus;
using Bulwark.Storage;

namespace Bulwark.Server.Hosting;

/// <summary>The Raft loop's part of Maintenance.Defragment (see <see cref="NodeHost.DefragmentAsync"/>).</summary>
public sealed partial class ReadyProcessor
{
    /// <summary>Asks the apply worker for a snapshot at its applied index now (loop only).</summary>
    internal void RequestSnapshotNow(TaskCompletionSource<SnapshotMetadata> written) =>
        worker.Enqueue(new ApplyWork.SnapshotNow(written));

    /// <summary>
    /// After the worker wrote <paramref name="written"/> (and reported it, before answering): takes that report now,
    /// so the core is compacted and the log released to it as after any snapshot (keeping
    /// <see cref="NodeHostOptions.SnapshotCatchUpEntries"/> entries for followers that lag a little; the WAL deletes the
    /// segments below that), then deletes the snapshot files older than the core's snapshot, which nothing reads any
    /// more (a send already under way keeps its open file). Returns how many snapshot files went. Loop only.
    /// </summary>
    /// <exception cref="DiskFullException">The log could not be released (no room for its marker); the release is held and retried as usual.</exception>
    internal int CompactToDefragmentSnapshot(SnapshotMetadata written)
    {
        ArgumentNullException.ThrowIfNull(written);
        TakeWorkerReports();
        if (compacted < written.Index)
        {
            throw new DiskFullException(WritesBlocked
                ? "the log cannot be released to the new snapshot while this member's disk is full (alarm NOSPACE)"
                : $"the log was not released to the new snapshot at index {written.Index}");
        }

        return storage.DeleteSnapshotsOlderThan(compacted);
    }
}
