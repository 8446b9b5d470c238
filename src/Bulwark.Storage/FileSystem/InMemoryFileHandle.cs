namespace Bulwark.Storage.FileSystem;

internal sealed class InMemoryFileHandle : IFileHandle
{
    private readonly InMemoryFileSystem _fs;
    private bool _disposed;

    public InMemoryFileHandle(InMemoryFileSystem fs, string path, MemoryFileNode node, int generation)
    {
        _fs = fs;
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
            lock (_fs.Gate)
            {
                Check();
                return Node.Length;
            }
        }
    }

    public int ReadAt(long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_fs.Gate)
        {
            Check();
            var n = (int)Math.Clamp(Node.Length - offset, 0, buffer.Length);
            Node.Current.Read(offset, buffer[..n]);
            return n;
        }
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.Write(this, offset, data);
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.Write(this, Node.Length, data);
        }
    }

    public void Flush()
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.FlushPoint(this);
        }
    }

    public void DataSync()
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.Sync(this);
        }
    }

    public void Truncate(long length)
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.SetLength(this, length, preallocate: false);
        }
    }

    public void Preallocate(long length)
    {
        lock (_fs.Gate)
        {
            Check();
            _fs.SetLength(this, length, preallocate: true);
        }
    }

    public void Dispose() => _disposed = true;

    private void Check()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _fs.CheckHandle(this);
    }
}
