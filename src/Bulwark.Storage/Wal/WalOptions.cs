namespace Bulwark.Storage.Wal;

/// <summary>Tuning of a <see cref="WriteAheadLog"/>.</summary>
public sealed record WalOptions
{
    public const long DefaultSegmentSize = 64L * 1024 * 1024;

    /// <summary>Bytes preallocated per segment file (a single batch larger than this gets a segment of its own size).</summary>
    public long SegmentSize { get; init; } = DefaultSegmentSize;

    /// <summary>Appended bytes are buffered in memory and written at <see cref="WriteAheadLog.Sync"/> or once this many are pending.</summary>
    public int WriteBufferSize { get; init; } = 1 << 20;

    internal void Validate()
    {
        if (SegmentSize < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSize), SegmentSize, "WAL segment size must be at least 4096 bytes.");
        }

        if (WriteBufferSize < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteBufferSize), WriteBufferSize, "WAL write buffer must be at least 4096 bytes.");
        }
    }
}
