namespace Bulwark.Storage.FileSystem;

/// <summary>
/// One in-memory file (an inode): what the program sees now, what is durable, and the writes in between,
/// kept in order so a crash can keep an exact prefix of them and tear the next one.
/// </summary>
internal sealed class MemoryFileNode
{
    private PageStore durable = new();
    private long durableLength;
    private readonly List<PendingOp> pending = [];

    public PageStore Current { get; private set; } = new();

    public long Length { get; private set; }

    public bool HasUnsyncedChanges => pending.Count > 0;

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        var op = PendingOp.ForWrite(offset, data.ToArray());
        Apply(Current, Length, op, out var newLength);
        Length = newLength;
        pending.Add(op);
    }

    public void SetLength(long length)
    {
        var op = PendingOp.ForSetLength(length);
        Apply(Current, Length, op, out var newLength);
        Length = newLength;
        pending.Add(op);
    }

    public void Sync()
    {
        foreach (var op in pending)
        {
            Apply(durable, durableLength, op, out durableLength);
        }

        pending.Clear();
    }

    /// <summary>The crash: keep the first <paramref name="keep"/> unsynced operations, then <paramref name="tornBytes"/> of the next write.</summary>
    public void Crash(int keep, int tornBytes)
    {
        for (var i = 0; i < keep && i < pending.Count; i++)
        {
            Apply(durable, durableLength, pending[i], out durableLength);
        }

        if (keep < pending.Count && tornBytes > 0 && pending[keep].Data is { } data)
        {
            var torn = PendingOp.ForWrite(pending[keep].Offset, data.AsSpan(0, Math.Min(tornBytes, data.Length)).ToArray());
            Apply(durable, durableLength, torn, out durableLength);
        }

        pending.Clear();
        Current = durable.Clone();
        Length = durableLength;
    }

    public int PendingCount => pending.Count;

    public int PendingWriteLength(int index) => pending[index].Data?.Length ?? 0;

    /// <summary>Flips bits in place in both the durable and the current image: bit rot on the medium.</summary>
    public void Corrupt(long offset, byte xorMask)
    {
        Span<byte> one = stackalloc byte[1];
        foreach (var store in new[] { durable, Current })
        {
            store.Read(offset, one);
            one[0] ^= xorMask;
            store.Write(offset, one);
        }
    }

    public long DurableLength => durableLength;

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
