namespace Bulwark.Storage.FileSystem;

internal sealed class InMemoryFileHandle : IFileHandle
{
    private readonly InMemoryFileSystem fs;
    private bool disposed;

    public InMemoryFileHandle(InMemoryFileSystem fs, string path, MemoryFileNode node, int generation)
    {
        this.fs = fs;
        Path = path;
        Node = node;
        Generation = generation;
    }

    public string Path { get; }

    internal MemoryFileNode Node { get; }

    internal int Generation { get; }

    public long Length
    {
        get
        {
            lock (fs.Gate)
            {
                Check();
                return Node.Length;
            }
        }
    }

    public int ReadAt(long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (fs.Gate)
        {
            Check();
            var n = (int)Math.Clamp(Node.Length - offset, 0, buffer.Length);
            Node.Current.Read(offset, buffer[..n]);
            return n;
        }
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        lock (fs.Gate)
        {
            Check();
            fs.Write(this, offset, data);
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (fs.Gate)
        {
            Check();
            fs.Write(this, Node.Length, data);
        }
    }

    public void Flush()
    {
        lock (fs.Gate)
        {
            Check();
            fs.FlushPoint(this);
        }
    }

    public void DataSync()
    {
        lock (fs.Gate)
        {
            Check();
            fs.Sync(this);
        }
    }

    public void Truncate(long length)
    {
        lock (fs.Gate)
        {
            Check();
            fs.SetLength(this, length, preallocate: false);
        }
    }

    public void Preallocate(long length)
    {
        lock (fs.Gate)
        {
            Check();
            fs.SetLength(this, length, preallocate: true);
        }
    }

    public void Dispose() => disposed = true;

    private void Check()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        fs.CheckHandle(this);
    }
}
