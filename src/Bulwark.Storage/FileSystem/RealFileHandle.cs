using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Bulwark.Storage.FileSystem;

internal sealed class RealFileHandle : IFileHandle
{
    private readonly SafeFileHandle handle;

    public RealFileHandle(string path, SafeFileHandle handle)
    {
        Path = path;
        this.handle = handle;
    }

    public string Path { get; }

    public long Length => RandomAccess.GetLength(handle);

    public int ReadAt(long offset, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        try
        {
            RandomAccess.Write(handle, data, offset);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw new NoSpaceLeftOnDeviceException($"No space left writing {data.Length} bytes to '{Path}' at {offset}.", e);
        }
    }

    public void Append(ReadOnlySpan<byte> data) => WriteAt(Length, data);

    // Writes go straight to the kernel (pwrite); there is no user-space buffer to push.
    public void Flush()
    {
    }

    public void DataSync()
    {
        var fd = Fd();
        int rc;
        do
        {
            rc = LinuxNative.fdatasync(fd);
        }
        while (rc != 0 && Marshal.GetLastPInvokeError() == LinuxNative.EINTR);

        if (rc != 0)
        {
            throw ErrnoException($"fdatasync '{Path}'", Marshal.GetLastPInvokeError());
        }
    }

    public void Truncate(long length)
    {
        try
        {
            RandomAccess.SetLength(handle, length);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw new NoSpaceLeftOnDeviceException($"No space left growing '{Path}' to {length} bytes.", e);
        }
    }

    public void Preallocate(long length)
    {
        var current = Length;
        if (length <= current)
        {
            return;
        }

        var fd = Fd();
        int rc;
        do
        {
            rc = LinuxNative.fallocate(fd, 0, current, length - current);
        }
        while (rc != 0 && Marshal.GetLastPInvokeError() == LinuxNative.EINTR);

        if (rc == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno is LinuxNative.EOPNOTSUPP or LinuxNative.ENOSYS)
        {
            // The file system cannot reserve blocks (e.g. some overlay or network file systems): write zeros instead.
            WriteZeros(current, length - current);
            return;
        }

        throw ErrnoException($"fallocate '{Path}' to {length} bytes", errno);
    }

    public void Dispose() => handle.Dispose();

    internal static bool IsDiskFull(IOException e) =>
        e is NoSpaceLeftOnDeviceException || e.HResult is LinuxNative.ENOSPC or LinuxNative.EDQUOT ||
        (e.HResult & 0xFFFF) is 0x70 or 0x27; // Windows ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL

    internal static IOException ErrnoException(string what, int errno) =>
        errno is LinuxNative.ENOSPC or LinuxNative.EDQUOT
            ? new NoSpaceLeftOnDeviceException($"No space left on device: {what}.")
            : new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);

    private void WriteZeros(long offset, long count)
    {
        var zeros = new byte[1 << 20];
        while (count > 0)
        {
            var n = (int)Math.Min(zeros.Length, count);
            WriteAt(offset, zeros.AsSpan(0, n));
            offset += n;
            count -= n;
        }
    }

    private int Fd() => (int)handle.DangerousGetHandle();
}
