namespace Bulwark.Storage.FileSystem;

/// <summary>
/// The switches of a <see cref="FaultInjectingFileSystem"/>: named faults an operator turns on and off while the
/// member runs (`bulwark serve --unsafe-fault-injection` and its admin call; never constructed without that flag).
/// Thread-safe: the admin thread sets them while storage threads read them on every call.
/// </summary>
public sealed class FaultPoints
{
    /// <summary>Every fsync/fdatasync (file or directory) sleeps this long first, then really syncs.</summary>
    public const string FsyncDelay = "fsync-delay";

    /// <summary>Every fsync/fdatasync fails with EIO, as a dying disk's would (nothing is synced).</summary>
    public const string FsyncError = "fsync-error";

    /// <summary>Every write that needs new space fails with ENOSPC; writes into space already allocated succeed.</summary>
    public const string DiskFull = "disk-full";

    /// <summary>The names above, for validation and listings.</summary>
    public static readonly IReadOnlyList<string> Names = [FsyncDelay, FsyncError, DiskFull];

    // Milliseconds; 0 is off. Longs read and written with Volatile so a change is seen by the next call on any thread.
    private long fsyncDelayMs;
    private int fsyncError;
    private int diskFull;

    /// <summary>The delay added to every sync; <see cref="TimeSpan.Zero"/> when the point is off.</summary>
    public TimeSpan FsyncDelayTime => TimeSpan.FromMilliseconds(Volatile.Read(ref fsyncDelayMs));

    public bool FsyncErrorOn => Volatile.Read(ref fsyncError) != 0;

    public bool DiskFullOn => Volatile.Read(ref diskFull) != 0;

    /// <summary>Sets the fsync delay (zero turns the point off).</summary>
    public void SetFsyncDelay(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Volatile.Write(ref fsyncDelayMs, (long)delay.TotalMilliseconds);
    }

    public void SetFsyncError(bool on) => Volatile.Write(ref fsyncError, on ? 1 : 0);

    public void SetDiskFull(bool on) => Volatile.Write(ref diskFull, on ? 1 : 0);

    /// <summary>The points that are on now, by name, with the fsync delay in milliseconds (others 0).</summary>
    public IReadOnlyList<(string Name, long DelayMs)> Active()
    {
        var active = new List<(string, long)>();
        var delay = Volatile.Read(ref fsyncDelayMs);
        if (delay > 0)
        {
            active.Add((FsyncDelay, delay));
        }

        if (FsyncErrorOn)
        {
            active.Add((FsyncError, 0));
        }

        if (DiskFullOn)
        {
            active.Add((DiskFull, 0));
        }

        return active;
    }
}
