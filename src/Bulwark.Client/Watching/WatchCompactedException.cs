namespace Bulwark.Client;

/// <summary>
/// A watch cannot go on without a gap: the revision it had to resume from was compacted away. Start a new watch from a
/// fresh read (its header revision + 1).
/// </summary>
public sealed class WatchCompactedException : Exception
{
    /// <summary>Creates the exception for a watch that needed <paramref name="requestedRevision"/>.</summary>
    public WatchCompactedException(long requestedRevision, long compactRevision)
        : base($"the watch needs revision {requestedRevision}, but the store is compacted up to revision {compactRevision}: events in between are gone; re-read and watch again from the read's revision + 1")
    {
        RequestedRevision = requestedRevision;
        CompactRevision = compactRevision;
    }

    /// <summary>The revision the watch had to (re)start from.</summary>
    public long RequestedRevision { get; }

    /// <summary>The store's compaction revision: the oldest revision still available.</summary>
    public long CompactRevision { get; }
}
