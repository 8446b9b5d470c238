using Bulwark.Consensus;
using Bulwark.Storage;

namespace Bulwark.Server.Transport;

/// <summary>
/// One snapshot being sent: its data read chunk by chunk, from the message itself when it carries the data, otherwise
/// from the stored file through <see cref="ISnapshotFiles"/> into one reused chunk buffer, so a sender holds at most one
/// chunk of a snapshot whatever its size. Keeps the CRC-32C of what was read for the closing frame.
/// </summary>
internal sealed class OutboundSnapshot : IDisposable
{
    private readonly Stream? file;
    private readonly byte[] buffer;
    private uint crc = uint.MaxValue;

    private OutboundSnapshot(ulong id, Message message, Stream? file, long length, int chunkBytes)
    {
        Id = id;
        Message = message;
        this.file = file;
        Length = length;
        buffer = file is null ? [] : new byte[(int)Math.Min(chunkBytes, Math.Max(length, 1))];
    }

    public ulong Id { get; }

    public Message Message { get; }

    /// <summary>Bytes of data in all.</summary>
    public long Length { get; }

    /// <summary>Bytes of data already taken by <see cref="NextChunk"/>.</summary>
    public long Offset { get; private set; }

    public bool AllRead => Offset == Length;

    /// <summary>The CRC-32C of the data read so far (all of it once <see cref="AllRead"/>).</summary>
    public uint DataCrc => ~crc;

    /// <summary>Starts sending <paramref name="message"/>'s snapshot; opens the stored file when the message has no data.</summary>
    /// <exception cref="SnapshotUnavailableException">The stored snapshot cannot be opened.</exception>
    public static OutboundSnapshot Open(ulong id, Message message, ISnapshotFiles? files, int chunkBytes)
    {
        var snapshot = message.Snapshot ?? throw new ArgumentException("not a snapshot message", nameof(message));
        if (files is null || !snapshot.Data.IsEmpty || snapshot.Metadata.Index == 0)
        {
            return new OutboundSnapshot(id, message, null, snapshot.Data.Length, chunkBytes);
        }

        Stream stream;
        try
        {
            stream = files.OpenForSending(snapshot.Metadata);
            if (stream.Length == 0)
            {
                _ = stream.Read(Span<byte>.Empty); // no chunk will read it: verify the empty file now
            }
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            throw new SnapshotUnavailableException($"cannot open snapshot {snapshot.Metadata.Index}@{snapshot.Metadata.Term}: {e.Message}", e);
        }

        return new OutboundSnapshot(id, message, stream, stream.Length, chunkBytes);
    }

    /// <summary>Reads the next chunk (at most <c>chunkBytes</c>); valid until the next call.</summary>
    /// <exception cref="SnapshotUnavailableException">The stored file could not be read or failed its checksum.</exception>
    public ReadOnlyMemory<byte> NextChunk(int chunkBytes)
    {
        var length = (int)Math.Min(chunkBytes, Length - Offset);
        ReadOnlyMemory<byte> chunk;
        if (file is null)
        {
            chunk = Message.Snapshot!.Data.Slice((int)Offset, length);
        }
        else
        {
            try
            {
                // Reading the file's last byte verifies its checksum: a damaged file fails before its end is sent.
                file.ReadExactly(buffer.AsSpan(0, length));
            }
            catch (Exception e) when (IsReadFailure(e) || e is EndOfStreamException)
            {
                throw new SnapshotUnavailableException($"reading snapshot {Message.Snapshot!.Metadata.Index} at byte {Offset}: {e.Message}", e);
            }

            chunk = buffer.AsMemory(0, length);
        }

        crc = Crc32C.Update(crc, chunk.Span);
        Offset += length;
        return chunk;
    }

    public void Dispose() => file?.Dispose();

    private static bool IsReadFailure(Exception e) => e is IOException or StorageException or UnauthorizedAccessException or InvalidOperationException;
}

/// <summary>A snapshot to send could not be opened or read on this node; that transfer fails, the connection stays.</summary>
internal sealed class SnapshotUnavailableException(string message, Exception inner) : Exception(message, inner);
