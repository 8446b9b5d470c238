namespace Bulwark.Server.Transport;

/// <summary>
/// A received snapshot held in memory, for a transport without <see cref="ISnapshotFiles"/>. The buffer grows with the
/// bytes that actually arrived, never to a size a frame merely claims, so a bogus total cannot make it allocate.
/// </summary>
internal sealed class MemorySnapshot(long totalBytes) : IIncomingSnapshot
{
    private const int InitialCapacity = 1 << 20;

    private byte[] buffer = new byte[Math.Min(totalBytes, InitialCapacity)];
    private int received;

    public void Write(ReadOnlySpan<byte> data)
    {
        var end = received + (long)data.Length;
        if (end > Array.MaxLength)
        {
            throw new WireFormatException($"snapshot of more than {Array.MaxLength} bytes cannot be held in memory (this transport has no snapshot files)");
        }

        if (end > buffer.Length)
        {
            Array.Resize(ref buffer, (int)Math.Min(Math.Min(totalBytes, Array.MaxLength), Math.Max(end, 2L * buffer.Length)));
        }

        data.CopyTo(buffer.AsSpan(received));
        received = (int)end;
    }

    public ReadOnlyMemory<byte>? Commit() => buffer.AsMemory(0, received);

    public void Dispose() => buffer = [];
}
