namespace Bulwark.Consensus.Tracking;

/// <summary>
/// A bounded ring of the last indexes of Append messages sent to one follower and not yet acknowledged.
/// When full, replication to that follower pauses (flow control), so a slow follower cannot make the
/// leader queue unbounded messages.
/// </summary>
internal sealed class Inflights
{
    private readonly ulong[] buffer;
    private int start;

    public Inflights(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        buffer = new ulong[capacity];
    }

    public int Count { get; private set; }

    public int Capacity => buffer.Length;

    public bool Full => Count == buffer.Length;

    /// <summary>Records an Append whose last entry is <paramref name="lastIndex"/>; indexes must increase.</summary>
    public void Add(ulong lastIndex)
    {
        if (Full)
        {
            throw new RaftInvariantException($"inflight window overflow: {Count} appends already in flight");
        }

        if (Count > 0 && buffer[(start + Count - 1) % buffer.Length] >= lastIndex)
        {
            throw new RaftInvariantException(
                $"inflight appends must increase: {lastIndex} after {buffer[(start + Count - 1) % buffer.Length]}");
        }

        buffer[(start + Count) % buffer.Length] = lastIndex;
        Count++;
    }

    /// <summary>Frees every in-flight append whose last index is at or below <paramref name="index"/>.</summary>
    public void FreeLE(ulong index)
    {
        while (Count > 0 && buffer[start] <= index)
        {
            start = (start + 1) % buffer.Length;
            Count--;
        }

        if (Count == 0)
        {
            start = 0;
        }
    }

    /// <summary>
    /// Frees the oldest slot. A heartbeat answer proves the follower is reachable; if appends were lost while the
    /// window was full, this lets one more Append out so the gap is found instead of stalling forever.
    /// </summary>
    public void FreeFirstOne()
    {
        if (Count > 0)
        {
            start = (start + 1) % buffer.Length;
            Count--;
        }
    }

    public void Reset()
    {
        start = 0;
        Count = 0;
    }
}
