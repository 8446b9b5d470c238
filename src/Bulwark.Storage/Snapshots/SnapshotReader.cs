using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Snapshots;

/// <summary>
/// Streams a snapshot's data (for sending to a follower or restoring the state machine). The header, membership and
/// trailer are verified on open; the data checksum is verified as the stream reaches its end, and a mismatch throws
/// <see cref="StorageCorruptionException"/> from that final <see cref="Read(byte[], int, int)"/>, so a consumer never sees a
/// clean end of a damaged snapshot.
/// </summary>
public sealed class SnapshotReader : Stream
{
    private readonly IFileHandle file;
    private readonly long dataStart;
    private readonly uint expectedCrc;
    private uint crc;
    private long position;
    private bool verified;

    private SnapshotReader(IFileHandle file, SnapshotMetadata metadata, long dataStart, long dataLength, uint expectedCrc, uint headCrc)
    {
        this.file = file;
        Metadata = metadata;
        this.dataStart = dataStart;
        DataLength = dataLength;
        this.expectedCrc = expectedCrc;
        crc = headCrc;
    }

    public SnapshotMetadata Metadata { get; }

    /// <summary>Bytes of application data.</summary>
    public long DataLength { get; }

    public string Path => file.Path;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => DataLength;

    public override long Position
    {
        get => position;
        set => throw new NotSupportedException("A snapshot is read sequentially so its checksum can be verified.");
    }

    internal static SnapshotReader Open(IFileSystem fs, string path)
    {
        var file = fs.Open(path, OpenMode.OpenExisting);
        try
        {
            var length = file.Length;
            var header = new byte[SnapshotFormat.HeaderSize];
            var problem = file.ReadAt(0, header) < header.Length
                ? "file shorter than a snapshot header"
                : SnapshotFormat.CheckHeader(header, out _, out _, out _);
            if (problem is not null)
            {
                throw new StorageCorruptionException(path, 0, problem);
            }

            SnapshotFormat.CheckHeader(header, out var index, out var term, out var configLength);
            if (SnapshotFormat.HeaderSize + (long)configLength + SnapshotFormat.TrailerSize > length)
            {
                throw new StorageCorruptionException(path, 24, $"membership length {configLength} runs past the end of the file");
            }

            var config = new byte[configLength];
            file.ReadAt(SnapshotFormat.HeaderSize, config);
            var cluster = SnapshotFormat.DecodeConfig(config)
                          ?? throw new StorageCorruptionException(path, SnapshotFormat.HeaderSize, "membership does not decode");
            var trailer = new byte[SnapshotFormat.TrailerSize];
            var trailerAt = length - SnapshotFormat.TrailerSize;
            file.ReadAt(trailerAt, trailer);
            var dataStart = SnapshotFormat.HeaderSize + configLength;
            var dataLength = (long)BitConverter.ToUInt64(trailer, 0);
            if (BitConverter.ToUInt32(trailer, 12) != SnapshotFormat.EndMagic)
            {
                throw new StorageCorruptionException(path, trailerAt, "bad snapshot trailer magic (incomplete or damaged file)");
            }

            if (dataLength != trailerAt - dataStart)
            {
                throw new StorageCorruptionException(path, trailerAt, $"trailer says {dataLength} data bytes but the file holds {trailerAt - dataStart}");
            }

            var headCrc = Crc32C.Update(Crc32C.Update(uint.MaxValue, header), config);
            var metadata = new SnapshotMetadata(index, term, cluster);
            return new SnapshotReader(file, metadata, dataStart, dataLength, BitConverter.ToUInt32(trailer, 8), headCrc);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var want = (int)Math.Min(buffer.Length, DataLength - position);
        var n = want <= 0 ? 0 : file.ReadAt(dataStart + position, buffer[..want]);
        crc = Crc32C.Update(crc, buffer[..n]);
        position += n;
        if (n < want)
        {
            throw new StorageCorruptionException(file.Path, dataStart + position, "snapshot file ends before its data does");
        }

        if (position == DataLength && !verified)
        {
            if (~crc != expectedCrc)
            {
                throw new StorageCorruptionException(file.Path, dataStart + DataLength, "snapshot checksum mismatch");
            }

            verified = true;
        }

        return n;
    }

    /// <summary>Reads and verifies all the data into memory.</summary>
    public byte[] ReadAllData()
    {
        if (DataLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"Snapshot of {DataLength} bytes is too large to load into memory; stream it.");
        }

        var data = new byte[DataLength];
        var at = 0;
        while (at < data.Length)
        {
            at += Read(data.AsSpan(at));
        }

        if (DataLength == 0)
        {
            _ = Read([]);
        }

        return data;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A snapshot is read sequentially.");

    public override void SetLength(long value) => throw new NotSupportedException("SnapshotReader is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("SnapshotReader is read-only.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }
}
