using System.Runtime.InteropServices;

namespace Bulwark.Storage.FileSystem;

/// <summary>The libc calls .NET does not expose: fdatasync, fsync of a directory, fallocate.</summary>
internal static partial class LinuxNative
{
    public const int ENOSPC = 28;
    public const int EINTR = 4;
    public const int EOPNOTSUPP = 95;
    public const int ENOSYS = 38;
    public const int EDQUOT = 122;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fdatasync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fallocate(int fd, int mode, long offset, long len);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);
}
