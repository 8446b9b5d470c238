namespace Bulwark.Storage.FileSystem;

/// <summary>
/// The storage code's only door to files. Paths are plain strings joined with '/'.
/// Durability contract (what <see cref="InMemoryFileSystem"/> enforces on a crash and the real one inherits from POSIX):
/// file contents and length are durable only after <see cref="IFileHandle.DataSync"/>;
/// creating, renaming and deleting a file are durable only after <see cref="SyncDirectory"/> of its directory.
/// Running out of space raises <see cref="NoSpaceLeftOnDeviceException"/>.
/// </summary>
public interface IFileSystem
{
    /// <summary>Opens a file for reading and writing.</summary>
    IFileHandle Open(string path, OpenMode mode);

    bool FileExists(string path);

    bool DirectoryExists(string path);

    /// <summary>Creates the directory and any missing parents (durable at once: done rarely, before any data).</summary>
    void CreateDirectory(string path);

    /// <summary>The names (not paths) of the files directly in <paramref name="directory"/>, sorted ordinally.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    /// <summary>Atomically renames, replacing any existing <paramref name="to"/>.</summary>
    void Rename(string from, string to);

    void Delete(string path);

    /// <summary>Makes the directory's entries (creates, renames, deletes) durable: fsync of the directory.</summary>
    void SyncDirectory(string directory);
}

public enum OpenMode
{
    /// <summary>The file must exist.</summary>
    OpenExisting,

    /// <summary>The file must not exist; it is created empty.</summary>
    CreateNew,

    /// <summary>Opens the file, creating it empty if missing.</summary>
    OpenOrCreate,
}

/// <summary>An open file. Positional reads and writes; no shared cursor.</summary>
public interface IFileHandle : IDisposable
{
    string Path { get; }

    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns how many (0 at end of file).</summary>
    int ReadAt(long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>, extending the file if needed.</summary>
    void WriteAt(long offset, ReadOnlySpan<byte> data);

    /// <summary>Writes at the current end of the file.</summary>
    void Append(ReadOnlySpan<byte> data);

    /// <summary>Pushes user-space buffers to the operating system (no durability implied).</summary>
    void Flush();

    /// <summary>fdatasync: contents and the metadata needed to read them (length) are durable when this returns.</summary>
    void DataSync();

    /// <summary>Sets the length: cuts the file or extends it with zeros (not durable until <see cref="DataSync"/>).</summary>
    void Truncate(long length);

    /// <summary>Reserves space so the file is at least <paramref name="length"/> bytes (zeros), failing early if the disk is full.</summary>
    void Preallocate(long length);
}

/// <summary>
/// The file system's own report of ENOSPC/EDQUOT (an <see cref="IOException"/>, raised by <see cref="IFileSystem"/> and
/// its handles). Storage code catches it and raises <see cref="DiskFullException"/>, the storage layer's domain error
/// ("nothing of this operation was written, retry when space returns") that the node host handles.
/// </summary>
public sealed class NoSpaceLeftOnDeviceException : IOException
{
    public NoSpaceLeftOnDeviceException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
