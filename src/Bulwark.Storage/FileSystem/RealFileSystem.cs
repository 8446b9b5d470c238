namespace Bulwark.Storage.FileSystem;

/// <summary>
/// The operating system's file system. Linux only for durability calls: fdatasync on the file descriptor,
/// fsync on a read-only descriptor of the directory, fallocate for preallocation (all via libc).
/// </summary>
public sealed class RealFileSystem : IFileSystem
{
    public static readonly RealFileSystem Instance = new();

    public RealFileSystem()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                "RealFileSystem needs Linux (fdatasync, fallocate and directory fsync through libc).");
        }
    }

    public IFileHandle Open(string path, OpenMode mode)
    {
        var fileMode = mode switch
        {
            OpenMode.OpenExisting => FileMode.Open,
            OpenMode.CreateNew => FileMode.CreateNew,
            OpenMode.OpenOrCreate => FileMode.OpenOrCreate,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown open mode"),
        };
        try
        {
            var handle = File.OpenHandle(path, fileMode, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            return new RealFileHandle(path, handle);
        }
        catch (IOException e) when (RealFileHandle.IsDiskFull(e))
        {
            throw new NoSpaceLeftOnDeviceException($"No space left creating '{path}'.", e);
        }
    }

    public bool FileExists(string path) => File.Exists(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public void CreateDirectory(string path)
    {
        var missing = new Stack<string>();
        for (var p = Path.GetFullPath(path); !Directory.Exists(p); p = Path.GetDirectoryName(p)!)
        {
            missing.Push(p);
        }

        Directory.CreateDirectory(path);

        // Make each new directory's own entry durable in its parent.
        while (missing.TryPop(out var created))
        {
            SyncDirectory(Path.GetDirectoryName(created)!);
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            names.Add(Path.GetFileName(file));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public void Rename(string from, string to) => File.Move(from, to, overwrite: true);

    public void Delete(string path) => File.Delete(path);

    public void SyncDirectory(string directory)
    {
        var fd = LinuxNative.open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw RealFileHandle.ErrnoException($"open directory '{directory}' for fsync", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        try
        {
            if (LinuxNative.fsync(fd) != 0)
            {
                throw RealFileHandle.ErrnoException($"fsync directory '{directory}'", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            _ = LinuxNative.close(fd);
        }
    }
}
