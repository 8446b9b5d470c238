namespace Bulwark.Consensus;

/// <summary>What an entry carries: an application command, or a change of membership.</summary>
public enum EntryType : byte
{
    /// <summary>Opaque application data (empty data is the leader's no-op).</summary>
    Normal = 0,

    /// <summary>A <see cref="ConfigChange"/> encoded with <see cref="ConfigChange.Encode"/>.</summary>
    ConfigChange = 1,
}

/// <summary>One entry of the replicated log. Index and term identify it uniquely (Log Matching).</summary>
public readonly record struct Entry(ulong Term, ulong Index, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Bytes this entry counts for when batching messages (data plus a fixed header estimate).</summary>
    public int Size => Data.Length + 24;

    public override string ToString() => $"{Index}@{Term}:{Type}[{Data.Length}]";
}
