using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// The real file system, except that every call blocks until <see cref="Release"/>: a node started on it is held in the
/// middle of opening its storage, as a member replaying a long log is. Disposing it releases, so a failed test does not
/// leave the start stuck.
/// </summary>
internal sealed class HeldFileSystem : IFileSystem, IDisposable
{
    private readonly IFileSystem inner = RealFileSystem.Instance;
    private readonly ManualResetEventSlim released = new(false);
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first call arrived (and is held).</summary>
    public Task Reached => reached.Task;

    public void Release() => released.Set();

    public void Dispose() => Release();

    public IFileHandle Open(string path, OpenMode mode) => Hold(() => inner.Open(path, mode));

    public bool FileExists(string path) => Hold(() => inner.FileExists(path));

    public bool DirectoryExists(string path) => Hold(() => inner.DirectoryExists(path));

    public void CreateDirectory(string path) => Hold(() => inner.CreateDirectory(path));

    public IReadOnlyList<string> ListFiles(string directory) => Hold(() => inner.ListFiles(directory));

    public void Rename(string from, string to) => Hold(() => inner.Rename(from, to));

    public void Delete(string path) => Hold(() => inner.Delete(path));

    public void SyncDirectory(string directory) => Hold(() => inner.SyncDirectory(directory));

    private void Hold(Action call) => Hold(() =>
    {
        call();
        return true;
    });

    private T Hold<T>(Func<T> call)
    {
        reached.TrySetResult();
        released.Wait();
        return call();
    }
}
