namespace Bulwark.Storage.FileSystem;

/// <summary>
/// A decorator that makes another file system misbehave on demand, as a failing disk does, so the storage code's real
/// error paths run in a real process (<see cref="FaultPoints"/> names the faults). With every point off it passes each
/// call straight through. The faults imitate what the kernel reports:
/// <list type="bullet">
/// <item><c>fsync-delay</c>: a slow disk; the sync happens, late.</item>
/// <item><c>fsync-error</c>: fdatasync/fsync fail with EIO and sync nothing (the storage code must not acknowledge what it
/// could not make durable; Bulwark's WAL fails stop).</item>
/// <item><c>disk-full</c>: ENOSPC for everything that needs new blocks (creating a file, writing past the end, growing,
/// preallocating) but not for writes into blocks already allocated, as on a real full disk (a preallocated WAL segment
/// keeps taking writes until it is full; the next segment or snapshot then finds no room).</item>
/// </list>
/// Only `bulwark serve --unsafe-fault-injection` constructs it.
/// </summary>
public sealed class FaultInjectingFileSystem : IFileSystem
{
    /// <summary>errno EIO, the HResult of the IOException a failed sync raises (as <see cref="RealFileSystem"/> does).</summary>
    public const int Eio = 5;

    private readonly IFileSystem inner;

    public FaultInjectingFileSystem(IFileSystem inner, FaultPoints points)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(points);
        this.inner = inner;
        Points = points;
    }

    public FaultPoints Points { get; }

    /// <summary>How a delay is waited (tests record it instead of sleeping).</summary>
    internal Action<TimeSpan> Sleep { get; init; } = Thread.Sleep;

    public IFileHandle Open(string path, OpenMode mode)
    {
        if (Points.DiskFullOn && (mode == OpenMode.CreateNew || (mode == OpenMode.OpenOrCreate && !inner.FileExists(path))))
        {
            throw NoSpace($"creating '{path}'");
        }

        return new Handle(inner.Open(path, mode), this);
    }

    public bool FileExists(string path) => inner.FileExists(path);

    public bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public void CreateDirectory(string path)
    {
        if (Points.DiskFullOn && !inner.DirectoryExists(path))
        {
            throw NoSpace($"creating directory '{path}'");
        }

        inner.CreateDirectory(path);
    }

    public IReadOnlyList<string> ListFiles(string directory) => inner.ListFiles(directory);

    public void Rename(string from, string to) => inner.Rename(from, to);

    public void Delete(string path) => inner.Delete(path);

    public void SyncDirectory(string directory)
    {
        BeforeSync($"fsync directory '{directory}'");
        inner.SyncDirectory(directory);
    }

    private static NoSpaceLeftOnDeviceException NoSpace(string what) =>
        new($"No space left on device: {what} (fault point {FaultPoints.DiskFull}).");

    private void BeforeSync(string what)
    {
        var delay = Points.FsyncDelayTime;
        if (delay > TimeSpan.Zero)
        {
            // The storage calls are synchronous (the loop thread waits for its fdatasync), so the delay blocks as a disk does.
            Sleep(delay);
        }

        if (Points.FsyncErrorOn)
        {
            throw new IOException($"{what} failed: Input/output error (errno {Eio}, fault point {FaultPoints.FsyncError}).", Eio);
        }
    }

    private sealed class Handle(IFileHandle inner, FaultInjectingFileSystem fs) : IFileHandle
    {
        public string Path => inner.Path;

        public long Length => inner.Length;

        public int ReadAt(long offset, Span<byte> buffer) => inner.ReadAt(offset, buffer);

        public void WriteAt(long offset, ReadOnlySpan<byte> data)
        {
            if (fs.Points.DiskFullOn && offset + data.Length > inner.Length)
            {
                throw NoSpace($"writing {data.Length} bytes to '{Path}' at {offset}, past its end");
            }

            inner.WriteAt(offset, data);
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            if (fs.Points.DiskFullOn && data.Length > 0)
            {
                throw NoSpace($"appending {data.Length} bytes to '{Path}'");
            }

            inner.Append(data);
        }

        public void Flush() => inner.Flush();

        public void DataSync()
        {
            fs.BeforeSync($"fdatasync '{Path}'");
            inner.DataSync();
        }

        public void Truncate(long length)
        {
            if (fs.Points.DiskFullOn && length > inner.Length)
            {
                throw NoSpace($"growing '{Path}' to {length} bytes");
            }

            inner.Truncate(length);
        }

        public void Preallocate(long length)
        {
            if (fs.Points.DiskFullOn && length > inner.Length)
            {
                throw NoSpace($"preallocating '{Path}' to {length} bytes");
            }

            inner.Preallocate(length);
        }

        public void Dispose() => inner.Dispose();
    }
}
