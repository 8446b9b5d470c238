using Bulwark.Consensus;

namespace Bulwark.Server.Transport;

/// <summary>
/// Reassembles one inbound snapshot transfer at a time (a connection streams its snapshots one after another).
/// The buffer grows with the bytes that actually arrived, never to a size a frame merely claims, so a bogus total
/// cannot make the receiver allocate; the total is also bounded by <paramref name="maxSnapshotBytes"/>.
/// </summary>
internal sealed class SnapshotAssembler(long maxSnapshotBytes)
{
    private const int InitialCapacity = 1 << 20;

    private SnapshotBeginFrame? current;
    private byte[] buffer = [];
    private int received;

    public bool InProgress => current is not null;

    /// <summary>Starts a transfer (abandoning any unfinished one). Returns the message at once if the snapshot is empty.</summary>
    public Message? Begin(SnapshotBeginFrame begin)
    {
        if (begin.TotalBytes > maxSnapshotBytes)
        {
            throw new WireFormatException($"snapshot of {begin.TotalBytes} bytes exceeds the limit of {maxSnapshotBytes} bytes");
        }

        current = begin;
        received = 0;
        buffer = new byte[Math.Min(begin.TotalBytes, InitialCapacity)];
        return begin.TotalBytes == 0 ? Complete() : null;
    }

    /// <summary>Adds a chunk; returns the whole InstallSnapshot message when the last byte has arrived.</summary>
    public Message? Add(SnapshotChunkFrame chunk)
    {
        if (current is null || chunk.TransferId != current.TransferId)
        {
            throw new WireFormatException($"snapshot chunk for transfer {chunk.TransferId}, which was never begun");
        }

        if (chunk.Offset != received)
        {
            throw new WireFormatException($"snapshot chunk at offset {chunk.Offset} but {received} bytes have arrived so far");
        }

        if (chunk.Data.IsEmpty)
        {
            throw new WireFormatException("empty snapshot chunk");
        }

        var end = received + (long)chunk.Data.Length;
        if (end > current.TotalBytes)
        {
            throw new WireFormatException($"snapshot chunk ends at byte {end}, past the announced total of {current.TotalBytes}");
        }

        if (end > buffer.Length)
        {
            Array.Resize(ref buffer, (int)Math.Min(current.TotalBytes, Math.Max(end, 2L * buffer.Length)));
        }

        chunk.Data.Span.CopyTo(buffer.AsSpan(received));
        received = (int)end;
        return received == current.TotalBytes ? Complete() : null;
    }

    private Message Complete()
    {
        var begin = current!;
        var message = begin.Message with { Snapshot = begin.Message.Snapshot! with { Data = buffer.AsMemory(0, received) } };
        current = null;
        buffer = [];
        received = 0;
        return message;
    }
}
