using Bulwark.Consensus;
using Bulwark.Storage;

namespace Bulwark.Server.Transport;

/// <summary>
/// Receives the snapshot transfers of one inbound connection, one at a time: each chunk goes straight to the
/// <see cref="IIncomingSnapshot"/> (a file when the transport has <see cref="ISnapshotFiles"/>), so memory stays bounded
/// by one frame whatever the snapshot's size. A transfer is kept only when every announced byte arrived in order and
/// the sender's checksum matches; anything else (a gap, an overrun, a bad checksum, the connection closing, a new
/// transfer starting) discards it. Runs on the connection's task, never on the host's Raft loop.
/// </summary>
internal sealed class SnapshotReception(ISnapshotFiles? files) : IDisposable
{
    private SnapshotBeginFrame? current;
    private IIncomingSnapshot? target;
    private long received;
    private uint crc = uint.MaxValue;

    public bool InProgress => current is not null;

    /// <summary>Data bytes of the last transfer that completed.</summary>
    public long LastCompletedBytes { get; private set; }

    /// <summary>Starts a transfer, discarding any unfinished one.</summary>
    /// <exception cref="SnapshotRefusedException">The snapshot cannot be stored here.</exception>
    public void Begin(SnapshotBeginFrame begin)
    {
        ArgumentNullException.ThrowIfNull(begin);
        Abandon();
        var metadata = begin.Message.Snapshot!.Metadata;
        target = Store(() => files is null ? new MemorySnapshot(begin.TotalBytes) : files.BeginReceiving(metadata, begin.TotalBytes), metadata);
        current = begin;
        received = 0;
        crc = uint.MaxValue;
    }

    /// <summary>Stores the next chunk of the current transfer.</summary>
    public void Add(SnapshotChunkFrame chunk)
    {
        var begin = Current(chunk.TransferId);
        if (chunk.Offset != received)
        {
            throw new WireFormatException($"snapshot chunk at offset {chunk.Offset} but {received} bytes have arrived so far");
        }

        if (chunk.Data.IsEmpty)
        {
            throw new WireFormatException("empty snapshot chunk");
        }

        var end = received + chunk.Data.Length;
        if (end > begin.TotalBytes)
        {
            throw new WireFormatException($"snapshot chunk ends at byte {end}, past the announced total of {begin.TotalBytes}");
        }

        Store(() => target!.Write(chunk.Data.Span), begin.Message.Snapshot!.Metadata);
        crc = Crc32C.Update(crc, chunk.Data.Span);
        received = end;
    }

    /// <summary>
    /// Checks and keeps the finished transfer; returns the InstallSnapshot message to deliver (with empty data when the
    /// snapshot is durable on disk), or null when the store decided it must not be delivered.
    /// </summary>
    public Message? End(SnapshotEndFrame end)
    {
        var begin = Current(end.TransferId);
        if (received != begin.TotalBytes)
        {
            throw new WireFormatException($"snapshot transfer ended after {received} of its {begin.TotalBytes} bytes");
        }

        if (~crc != end.DataCrc)
        {
            throw new WireFormatException($"snapshot at index {begin.Message.Snapshot!.Metadata.Index} arrived damaged (checksum mismatch)");
        }

        var data = Store(() => target!.Commit(), begin.Message.Snapshot!.Metadata);
        LastCompletedBytes = received;
        Abandon();
        return data is { } kept ? begin.Message with { Snapshot = begin.Message.Snapshot! with { Data = kept } } : null;
    }

    /// <summary>The sender gave the transfer up: discard it.</summary>
    public void Abort(SnapshotAbortFrame abort)
    {
        Current(abort.TransferId);
        Abandon();
    }

    public void Dispose() => Abandon();

    private SnapshotBeginFrame Current(ulong transferId) =>
        current is { } begin && begin.TransferId == transferId
            ? begin
            : throw new WireFormatException($"snapshot frame for transfer {transferId}, which was never begun");

    private void Abandon()
    {
        target?.Dispose();
        target = null;
        current = null;
        received = 0;
    }

    private static void Store(Action action, SnapshotMetadata metadata) => Store<object?>(() =>
    {
        action();
        return null;
    }, metadata);

    private static T Store<T>(Func<T> action, SnapshotMetadata metadata)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or StorageException or UnauthorizedAccessException)
        {
            throw new SnapshotRefusedException($"cannot store snapshot at index {metadata.Index}: {e.Message}", e);
        }
    }
}
