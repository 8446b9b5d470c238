using System.Buffers.Binary;
using Bulwark.Consensus;

namespace Bulwark.Storage.Wal;

/// <summary>
/// Frames a large batch of entries for one gather write (pwritev) straight from the entries' own buffers: only the
/// record headers, the fixed entry fields and the padding are written into a reused frame buffer, so the entry data
/// is read twice (checksum, then the kernel's copy) but never copied in user space. The records on disk are byte for
/// byte those <see cref="WalFormat.SealRecord"/> writes.
/// </summary>
internal sealed class GatherBatch
{
    // Per entry: the previous record's padding (up to 7 bytes), then this record's header and fixed entry fields.
    private const int MaxFrameBytes = 7 + WalFormat.RecordHeaderSize + WalFormat.EntryFixedSize;

    private readonly List<ReadOnlyMemory<byte>> _parts = [];
    private byte[] _frames = new byte[64 * MaxFrameBytes];

    /// <summary>
    /// Whether a batch is better written by gathering than by copying into the write buffer: it is large enough to
    /// be written at once anyway, and its entries are large enough that one buffer per entry costs less than copying.
    /// </summary>
    public static bool Pays(int entryCount, long recordBytes, long dataBytes, int writeBufferSize) =>
        recordBytes >= writeBufferSize && dataBytes >= 512L * entryCount;

    /// <summary>
    /// The parts to write: <paramref name="pending"/> (records buffered earlier) followed by the framed entries.
    /// Valid until the next call.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Frame(ReadOnlyMemory<byte> pending, ReadOnlySpan<Entry> entries)
    {
        _parts.Clear();
        if (!pending.IsEmpty)
        {
            _parts.Add(pending);
        }

        var needed = (entries.Length + 1) * MaxFrameBytes;
        if (_frames.Length < needed)
        {
            _frames = new byte[Math.Max(needed, _frames.Length * 2)];
        }

        var frames = _frames.AsSpan(0, needed);
        frames.Clear();
        var at = 0;
        var frameStart = 0;
        foreach (var entry in entries)
        {
            var data = entry.Data;
            var payloadLength = WalFormat.EntryFixedSize + data.Length;
            var header = frames.Slice(at, WalFormat.RecordHeaderSize + WalFormat.EntryFixedSize);
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payloadLength);
            header[4] = (byte)RecordType.Entry;
            var payload = header[WalFormat.RecordHeaderSize..];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
            BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], entry.Index);
            payload[16] = (byte)entry.Type;
            var crc = Crc32C.Update(uint.MaxValue, header[..8]);
            crc = Crc32C.Update(crc, payload);
            crc = ~Crc32C.Update(crc, data.Span);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], crc);
            at += header.Length;
            _parts.Add(_frames.AsMemory(frameStart, at - frameStart));
            if (!data.IsEmpty)
            {
                _parts.Add(data);
            }

            // The padding (zeros, already cleared) opens the next frame.
            frameStart = at;
            at += WalFormat.Align8(payloadLength) - payloadLength;
        }

        if (at > frameStart)
        {
            _parts.Add(_frames.AsMemory(frameStart, at - frameStart));
        }

        return _parts;
    }

    /// <summary>Drops the references to the last batch's buffers once it is written.</summary>
    public void Clear() => _parts.Clear();
}
