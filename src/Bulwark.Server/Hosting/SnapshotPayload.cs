using System.Buffers.Binary;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The application data of a Raft snapshot: the member table and the key-value store, so a node that installs a
/// snapshot learns both. Layout: u32 LE length of the member JSON, the JSON, then the KV snapshot bytes.
/// </summary>
public static class SnapshotPayload
{
    public static byte[] Encode(ReadOnlySpan<byte> membersJson, ReadOnlySpan<byte> kvSnapshot)
    {
        var data = new byte[4 + membersJson.Length + kvSnapshot.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)membersJson.Length);
        membersJson.CopyTo(data.AsSpan(4));
        kvSnapshot.CopyTo(data.AsSpan(4 + membersJson.Length));
        return data;
    }

    public static (ReadOnlyMemory<byte> MembersJson, ReadOnlyMemory<byte> KvSnapshot) Decode(ReadOnlyMemory<byte> data)
    {
        if (data.Length < 4)
        {
            throw new InvalidDataException($"snapshot payload of {data.Length} bytes is too short for its header");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data.Span);
        if (length > data.Length - 4)
        {
            throw new InvalidDataException($"snapshot payload says its member table has {length} bytes but only {data.Length - 4} follow");
        }

        return (data.Slice(4, (int)length), data[(4 + (int)length)..]);
    }

    /// <summary>Streams the payload: the member table, then whatever <paramref name="writeKv"/> writes.</summary>
    public static void Write(Stream destination, ReadOnlySpan<byte> membersJson, Action<Stream> writeKv)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(writeKv);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)membersJson.Length);
        destination.Write(length);
        destination.Write(membersJson);
        writeKv(destination);
    }

    /// <summary>Reads the member table from a streamed payload; <paramref name="source"/> is left at the KV bytes.</summary>
    public static byte[] ReadMembers(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var header = new byte[4];
        source.ReadExactly(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > 64 << 20)
        {
            throw new InvalidDataException($"snapshot payload says its member table has {length} bytes (more than 64 MiB)");
        }

        var json = new byte[length];
        source.ReadExactly(json);
        return json;
    }
}
