using System.Collections.Immutable;
using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>What the Raft loop hands the apply worker, in log order.</summary>
internal abstract record ApplyWork
{
    /// <summary>Committed entries (already durable) to apply to the state machine.</summary>
    public sealed record Entries(ImmutableArray<Entry> Committed) : ApplyWork;

    /// <summary>A snapshot from the leader (already saved to disk) that replaces the state machine.</summary>
    public sealed record Install(Snapshot Snapshot) : ApplyWork;

    /// <summary>
    /// Write a snapshot of everything applied now, whatever the threshold (Maintenance.Defragment); completes with its
    /// metadata once it is durable and reported to the loop, or with the <see cref="Bulwark.Storage.DiskFullException"/>.
    /// </summary>
    public sealed record SnapshotNow(TaskCompletionSource<SnapshotMetadata> Written) : ApplyWork;

    /// <summary>The snapshot writer's thread is done with <paramref name="Snapshot"/> (written or failed): the worker ends it.</summary>
    public sealed record SnapshotWritten(SnapshotInProgress Snapshot) : ApplyWork;

    /// <summary>Try again the snapshot a full disk stopped (the loop sends this on its NOSPACE retry timer).</summary>
    public sealed record RetrySnapshot : ApplyWork
    {
        public static readonly RetrySnapshot Instance = new();
    }
}
