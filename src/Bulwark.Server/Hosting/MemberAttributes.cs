using System.Text.Json;

namespace Bulwark.Server.Hosting;

/// <summary>
/// What a member publishes about itself through the log when it starts (as etcd does), so every member learns every
/// member's client URLs. Encoded as a Normal entry whose first byte is <see cref="Marker"/>: 0xFF can never start a
/// protobuf message (it would be a tag with wire type 7), so it cannot be mistaken for a key-value command.
/// </summary>
public sealed record MemberAttributes(ulong Id, string Name, string[] ClientUrls)
{
    public const byte Marker = 0xFF;

    public static bool IsAttributesEntry(ReadOnlySpan<byte> data) => !data.IsEmpty && data[0] == Marker;

    public byte[] Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(this);
        var data = new byte[json.Length + 1];
        data[0] = Marker;
        json.CopyTo(data, 1);
        return data;
    }

    public static MemberAttributes Decode(ReadOnlySpan<byte> data)
    {
        if (!IsAttributesEntry(data))
        {
            throw new InvalidDataException("not a member-attributes entry");
        }

        return JsonSerializer.Deserialize<MemberAttributes>(data[1..])
            ?? throw new InvalidDataException("a member-attributes entry holds empty JSON");
    }

    public bool SameAs(MemberAttributes other) =>
        other is not null && other.Id == Id && other.Name == Name && other.ClientUrls.SequenceEqual(ClientUrls);
}
