using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Kv.Snapshots;

namespace Bulwark.Server.Hosting;

/// <summary>
/// A snapshot the apply worker began at an applied index and a thread of its own writes to disk (at most one at a time).
/// Everything it needs from the apply thread's state is captured when it begins: the metadata, the member table, and
/// the store's <see cref="PointInTimeSnapshot"/>; the writer's outcome is handed back through the work queue.
/// </summary>
internal sealed class SnapshotInProgress(SnapshotMetadata metadata, byte[] membersJson, MvccStore store, PointInTimeSnapshot storeSnapshot, bool forThreshold)
{
    public SnapshotMetadata Metadata { get; } = metadata;

    /// <summary>The member table at the snapshot's index.</summary>
    public byte[] MembersJson { get; } = membersJson;

    /// <summary>The store the snapshot was begun on (it ends there, doing the compaction it deferred).</summary>
    public MvccStore Store { get; } = store;

    public PointInTimeSnapshot StoreSnapshot { get; } = storeSnapshot;

    /// <summary>Started by the threshold (a full disk raises NOSPACE) rather than only by Maintenance.Defragment.</summary>
    public bool ForThreshold { get; } = forThreshold;

    /// <summary>Defragment calls answered when it is written.</summary>
    public List<TaskCompletionSource<SnapshotMetadata>> Requesters { get; } = [];

    public long StartedTimestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>The writer thread (null when written inline, as under the simulator).</summary>
    public Thread? Writer { get; set; }

    /// <summary>Set by the writer before it reports: the file's data bytes, or why it failed.</summary>
    public long Bytes { get; set; }

    public Exception? Error { get; set; }
}
