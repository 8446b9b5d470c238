namespace Bulwark.Storage.FileSystem;

/// <summary>
/// One in-memory file (an inode): what the program sees now, what is durable, and the writes in between,
/// kept in order so a crash can keep an exact prefix of them and tear the next one.
/// </summary>
internal sealed class MemoryFileNode
{
    private PageStore _durable = new();
    private long _durableLength;
    private readonly List<PendingOp> _pending = [];

    public PageStore Current { get; private set; } = new();

    public long Length { get; private set; }

    public bool HasUnsyncedChanges => _pending.Count > 0;

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        var op = PendingOp.ForWrite(offset, data.ToArray());
        Apply(Current, Length, op, out var newLength);
        Length = newLength;
        _pending.Add(op);
    }

    public void SetLength(long length)
    {
        var op = PendingOp.ForSetLength(length);
        Apply(Current, Length, op, out var newLength);
        Length = newLength;
        _pending.Add(op);
    }

    public void Sync()
    {
        foreach (var op in _pending)
        {
            Apply(_durable, _durableLength, op, out _durableLength);
        }

        _pending.Clear();
    }

    /// <summary>The crash: keep the first <paramref name="keep"/> unsynced operations, then <paramref name="tornBytes"/> of the next write.</summary>
    public void Crash(int keep, int tornBytes)
    {
        for (var i = 0; i < keep && i < _pending.Count; i++)
        {
            Apply(_durable, _durableLength, _pending[i], out _durableLength);
        }

        if (keep < _pending.Count && tornBytes > 0 && _pending[keep].Data is { } data)
        {
            var torn = PendingOp.ForWrite(_pending[keep].Offset, data.AsSpan(0, Math.Min(tornBytes, data.Length)).ToArray());
            Apply(_durable, _durableLength, torn, out _durableLength);
        }

        _pending.Clear();
        Current = _durable.Clone();
        Length = _durableLength;
    }

    public int PendingCount => _pending.Count;

    public int PendingWriteLength(int index) => _pending[index].Data?.Length ?? 0;

    /// <summary>Flips bits in place in both the durable and the current image: bit rot on the medium.</summary>
    public void Corrupt(long offset, byte xorMask)
    {
        Span<byte> one = stackalloc byte[1];
        foreach (var store in new[] { _durable, Current })
        {
            store.Read(offset, one);
            one[0] ^= xorMask;
            store.Write(offset, one);
        }
    }

    public long DurableLength => _durableLength;

    private static void Apply(PageStore store, long length, PendingOp op, out long newLength)
    {
        if (op.Data is { } data)
        {
            store.Write(op.Offset, data);
            newLength = Math.Max(length, op.Offset + data.Length);
        }
        else
        {
            if (op.Offset < length)
            {
                store.ZeroFrom(op.Offset);
            }

            newLength = op.Offset;
        }
    }

    private readonly record struct PendingOp(long Offset, byte[]? Data)
    {
        public static PendingOp ForWrite(long offset, byte[] data) => new(offset, data);

        public static PendingOp ForSetLength(long length) => new(length, null);
    }
}
