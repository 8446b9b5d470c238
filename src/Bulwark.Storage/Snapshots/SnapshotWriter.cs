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
    private readonly SnapshotStore store;
    private readonly IFileHandle file;
    private readonly byte[] buffer = new byte[64 * 1024];
    private int buffered;
    private long fileOffset;
    private long dataLength;
    private uint crc = uint.MaxValue;
    private bool done;

    internal SnapshotWriter(SnapshotStore store, IFileHandle file, string tempPath, SnapshotMetadata metadata)
    {
        this.store = store;
        this.file = file;
        TempPath = tempPath;
        Metadata = metadata;
        Put(SnapshotFormat.EncodeHead(metadata));
    }

    public SnapshotMetadata Metadata { get; }

    internal string TempPath { get; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !done;

    public override long Length => dataLength;

    public override long Position
    {
        get => dataLength;
        set => throw new NotSupportedException("A snapshot is written sequentially.");
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(done, this);
        Put(buffer);
        dataLength += buffer.Length;
    }

    /// <summary>Seals the snapshot (trailer with checksum), makes it durable under its final name and prunes old ones.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(done, this);
        var trailer = new byte[SnapshotFormat.TrailerSize];
        var crc = ~this.crc;
        SnapshotFormat.WriteTrailer(trailer, dataLength, crc);
        try
        {
            FlushBuffer();
            file.WriteAt(fileOffset, trailer);
            file.DataSync();
            file.Dispose();
            done = true;
            store.Publish(this);
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
        if (disposing && !done)
        {
            Abort();
        }

        base.Dispose(disposing);
    }

    private void Abort()
    {
        done = true;
        file.Dispose();
        store.Discard(TempPath);
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        crc = Crc32C.Update(crc, bytes);
        while (!bytes.IsEmpty)
        {
            var n = Math.Min(bytes.Length, buffer.Length - buffered);
            bytes[..n].CopyTo(buffer.AsSpan(buffered));
            buffered += n;
            bytes = bytes[n..];
            if (buffered == buffer.Length)
            {
                FlushBuffer();
            }
        }
    }

    private void FlushBuffer()
    {
        try
        {
            file.WriteAt(fileOffset, buffer.AsSpan(0, buffered));
        }
        catch (NoSpaceLeftOnDeviceException e)
        {
            Abort();
            throw new DiskFullException($"cannot write snapshot {Metadata.Index}@{Metadata.Term}", e);
        }

        fileOffset += buffered;
        buffered = 0;
    }
}
