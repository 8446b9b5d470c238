using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// A file system whose fdatasync blocks while <see cref="Stall"/> is on, as a stalled disk would: the node loop stops in
/// the middle of persisting a Ready, and everything sent to it meanwhile queues up. Files live in memory. Disposing it
/// resumes the disk: declare it after the cluster, so that a failed test does not leave the loop stuck in its disposal.
/// </summary>
internal sealed class StallingFileSystem : IFileSystem, IDisposable
{
    private readonly InMemoryFileSystem inner = new(seed: 5);
    private readonly ManualResetEventSlim open = new(true);
    private readonly SemaphoreSlim stalledSyncs = new(0);

    /// <summary>Blocks every later fdatasync until <see cref="Resume"/>.</summary>
    public void Stall() => open.Reset();

    public void Resume() => open.Set();

    public void Dispose() => Resume();

    /// <summary>Waits until a sync is blocked by the stall (the loop is stuck in it).</summary>
    public Task<bool> WaitForStalledSyncAsync(TimeSpan timeout) => stalledSyncs.WaitAsync(timeout);

    public IFileHandle Open(string path, OpenMode mode) => new Handle(inner.Open(path, mode), this);

    public bool FileExists(string path) => inner.FileExists(path);

    public bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public void CreateDirectory(string path) => inner.CreateDirectory(path);

    public IReadOnlyList<string> ListFiles(string directory) => inner.ListFiles(directory);

    public void Rename(string from, string to) => inner.Rename(from, to);

    public void Delete(string path) => inner.Delete(path);

    public void SyncDirectory(string directory) => inner.SyncDirectory(directory);

    private void WaitIfStalled()
    {
        if (!open.IsSet)
        {
            stalledSyncs.Release();
            open.Wait();
        }
    }

    private sealed class Handle(IFileHandle inner, StallingFileSystem fs) : IFileHandle
    {
        public string Path => inner.Path;

        public long Length => inner.Length;

        public int ReadAt(long offset, Span<byte> buffer) => inner.ReadAt(offset, buffer);

        public void WriteAt(long offset, ReadOnlySpan<byte> data) => inner.WriteAt(offset, data);

        public void Append(ReadOnlySpan<byte> data) => inner.Append(data);

        public void Flush() => inner.Flush();

        public void DataSync()
        {
            fs.WaitIfStalled();
            inner.DataSync();
        }

        public void Truncate(long length) => inner.Truncate(length);

        public void Preallocate(long length) => inner.Preallocate(length);

        public void Dispose() => inner.Dispose();
    }
}
