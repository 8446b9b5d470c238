namespace Bulwark.Simulation;

/// <summary>
/// A running FNV-1a hash over everything observable a run does (deliveries, ticks, crashes, client calls).
/// Two runs of one seed must end with the same value; a difference means hidden nondeterminism.
/// </summary>
public sealed class TraceHash
{
    private const ulong Prime = 1099511628211UL;
    private ulong hash = 14695981039346656037UL;

    public ulong Value => hash;

    public void Add(long value)
    {
        var v = (ulong)value;
        for (var i = 0; i < 8; i++)
        {
            hash ^= v & 0xFF;
            hash *= Prime;
            v >>= 8;
        }
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }
    }

    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var h = new TraceHash();
        h.Add(bytes);
        return h.Value;
    }
}
