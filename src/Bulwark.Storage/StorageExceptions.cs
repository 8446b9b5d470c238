namespace Bulwark.Storage;

/// <summary>Base of every error this library raises on purpose.</summary>
public abstract class StorageException : Exception
{
    protected StorageException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>
/// Stored data failed verification somewhere it cannot be explained by a crash (a bad CRC in the middle of the log,
/// a damaged segment header, a snapshot whose checksum does not match). The node must not serve from this data:
/// see docs/storage.md, "Rebuilding a node from the leader".
/// </summary>
public sealed class StorageCorruptionException : StorageException
{
    public StorageCorruptionException(string filePath, long offset, string reason)
        : base($"Storage corruption in '{filePath}' at byte offset {offset}: {reason}. " +
               "This node's data cannot be trusted; rebuild it from the leader (docs/storage.md).")
    {
        FilePath = filePath;
        Offset = offset;
        Reason = reason;
    }

    public string FilePath { get; }

    public long Offset { get; }

    public string Reason { get; }
}

/// <summary>The disk has no room for the write. Nothing of the failed operation is readable; retry when space returns.</summary>
public sealed class DiskFullException : StorageException
{
    public DiskFullException(string what, Exception? inner = null)
        : base($"Disk full: {what}. Nothing of this operation was written; free space and retry.", inner)
    {
    }
}

/// <summary>
/// An fsync/fdatasync failed. What reached the disk is unknown (the kernel may have dropped the dirty pages),
/// so the write-ahead log stops for good: the node must stop (fail-stop) and restart from what is on disk.
/// </summary>
public sealed class WalSyncFailedException : StorageException
{
    public WalSyncFailedException(string filePath, Exception inner)
        : base($"fsync of '{filePath}' failed; the write-ahead log has stopped (fail-stop). Restart the node.", inner)
    {
        FilePath = filePath;
    }

    public string FilePath { get; }
}

/// <summary>The log stopped after an earlier fatal error (see <see cref="Exception.InnerException"/>) and refuses all use.</summary>
public sealed class WalFailedException : StorageException
{
    public WalFailedException(Exception cause)
        : base("The write-ahead log stopped after a fatal storage error and refuses further use; restart the node.", cause)
    {
    }
}
