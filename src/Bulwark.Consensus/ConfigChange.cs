using System.Buffers.Binary;

namespace Bulwark.Consensus;

/// <summary>The kinds of membership change a client can ask for.</summary>
public enum ConfigChangeType : byte
{
    AddVoter = 0,
    RemoveVoter = 1,
    AddLearner = 2,
    PromoteLearner = 3,
}

/// <summary>
/// One membership change. <see cref="Context"/> is opaque to the core (the host puts the member's
/// name and peer URL there so every node learns how to reach it from the log itself).
/// </summary>
public sealed record ConfigChange(ConfigChangeType Type, ulong NodeId, ReadOnlyMemory<byte> Context = default)
{
    public byte[] Encode()
    {
        var buf = new byte[1 + 8 + Context.Length];
        buf[0] = (byte)Type;
        BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(1), NodeId);
        Context.Span.CopyTo(buf.AsSpan(9));
        return buf;
    }

    public static ConfigChange Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 9)
        {
            throw new FormatException($"config change entry is {data.Length} bytes; at least 9 expected");
        }

        var type = (ConfigChangeType)data[0];
        if (!Enum.IsDefined(type))
        {
            throw new FormatException($"config change type {data[0]} is unknown");
        }

        return new ConfigChange(type, BinaryPrimitives.ReadUInt64LittleEndian(data[1..]), data[9..].ToArray());
    }
}
