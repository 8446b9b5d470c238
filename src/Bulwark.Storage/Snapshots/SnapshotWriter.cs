using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Snapshots;

/// <summary>
/// A snapshot being written as a stream (locally produced, or received from the leader in chunks).
/// Nothing is visible until <see cref="Commit"/>: the bytes go to a temporary file which is then fsynced,
/// renamed into place and the directory fsynced. Disposing without committing deletes the temporary file.
/// </summary>
public sealed class SnapshotWriter : Stream
{
    private readonly SnapshotStore _store;
    private readonly IFileHandle _file;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _buffered;
    private long _fileOffset;
    private long _dataLength;
    private uint _crc = uint.MaxValue;
    private bool _done;

    internal SnapshotWriter(SnapshotStore store, IFileHandle file, string tempPath, SnapshotMetadata metadata)
    {
        _store = store;
        _file = file;
        TempPath = tempPath;
        Metadata = metadata;
        Put(SnapshotFormat.EncodeHead(metadata));
    }

    public SnapshotMetadata Metadata { get; }

    internal string TempPath { get; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_done;

    public override long Length => _dataLength;

    public override long Position
    {
        get => _dataLength;
        set => throw new NotSupportedException("A snapshot is written sequentially.");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        Put(buffer);
        _dataLength += buffer.Length;
    }

    /// <summary>Seals the snapshot (trailer with checksum), makes it durable under its final name and prunes old ones.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        var trailer = new byte[SnapshotFormat.TrailerSize];
        var crc = ~_crc;
        SnapshotFormat.WriteTrailer(trailer, _dataLength, crc);
        try
        {
            FlushBuffer();
            _file.WriteAt(_fileOffset, trailer);
            _file.DataSync();
            _file.Dispose();
            _done = true;
            _store.Publish(this);
        }
        catch (NoSpaceLeftOnDeviceException e)
        {
            Abort();
            throw new DiskFullException($"cannot write snapshot {Metadata.Index}@{Metadata.Term}", e);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("SnapshotWriter is write-only.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A snapshot is written sequentially.");

    public override void SetLength(long value) => throw new NotSupportedException("A snapshot is written sequentially.");

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_done)
        {
            Abort();
        }

        base.Dispose(disposing);
    }

    private void Abort()
    {
        _done = true;
        _file.Dispose();
        _store.Discard(TempPath);
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        _crc = Crc32C.Update(_crc, bytes);
        while (!bytes.IsEmpty)
        {
            var n = Math.Min(bytes.Length, _buffer.Length - _buffered);
            bytes[..n].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += n;
            bytes = bytes[n..];
            if (_buffered == _buffer.Length)
            {
                FlushBuffer();
            }
        }
    }

    private void FlushBuffer()
    {
        try
        {
            _file.WriteAt(_fileOffset, _buffer.AsSpan(0, _buffered));
        }
        catch (NoSpaceLeftOnDeviceException e)
        {
            Abort();
            throw new DiskFullException($"cannot write snapshot {Metadata.Index}@{Metadata.Term}", e);
        }

        _fileOffset += _buffered;
        _buffered = 0;
    }
}
