using Bulwark.Kv.Snapshots;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Starts a snapshot of the store as it is now (revision R), to be written by another thread while this store keeps
    /// changing: see <see cref="PointInTimeSnapshot"/>. Captures the small sections (revisions, leases, alarms, auth) and
    /// the key count now; the keys are read later, chunk by chunk, as their states at or below R. Until
    /// <see cref="EndPointInTimeSnapshot"/>, compaction only moves the compact revision (its history stays, so no state
    /// the snapshot needs is dropped). Owner thread only; call under the lock the snapshot's writer reads under.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another point-in-time snapshot is still open.</exception>
    public PointInTimeSnapshot BeginPointInTimeSnapshot()
    {
        EnsureNotWriting();
        if (openSnapshot is not null)
        {
            throw new InvalidOperationException($"A snapshot of revision {openSnapshot.Revision} is still being written; end it before starting another.");
        }

        // The key count written up front is the index's only when no compaction is pending.
        CompactHistory();
        using var header = new MemoryStream();
        var encoder = new KvSnapshotEncoder(header);
        WriteSnapshotHeader(encoder);
        encoder.Flush();
        openSnapshot = new PointInTimeSnapshot(index, header.ToArray(), index.Count, currentRevision, compactRevision);
        return openSnapshot;
    }

    /// <summary>
    /// Ends a snapshot begun with <see cref="BeginPointInTimeSnapshot"/> (written or abandoned) and does the history
    /// compaction it deferred. Owner thread only, under the same lock as readers (it changes history).
    /// </summary>
    public void EndPointInTimeSnapshot(PointInTimeSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        EnsureNotWriting();
        if (!ReferenceEquals(openSnapshot, snapshot))
        {
            throw new InvalidOperationException($"The snapshot of revision {snapshot.Revision} is not the one open on this store.");
        }

        openSnapshot = null;
        CompactHistory();
    }
}
