using System.Text.Json;

namespace Bulwark.Server.Hosting;

/// <summary>
/// etcd's MemberUpdate: new peer URLs for a member, carried through the log as a Normal entry (the core's membership
/// does not change, only how members reach each other). The first byte is <see cref="Marker"/>: 0xFE starts a varint
/// tag of wire type 6, which protobuf does not have, so it cannot be mistaken for a key-value command (as
/// <see cref="MemberAttributes.Marker"/>, 0xFF, whose wire type 7 does not exist either).
/// </summary>
public sealed record MemberPeerUrlsEntry(ulong Id, string[] PeerUrls)
{
    public const byte Marker = 0xFE;

    public static bool IsPeerUrlsEntry(ReadOnlySpan<byte> data) => !data.IsEmpty && data[0] == Marker;

    public byte[] Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(this);
        var data = new byte[json.Length + 1];
        data[0] = Marker;
        json.CopyTo(data, 1);
        return data;
    }

    public static MemberPeerUrlsEntry Decode(ReadOnlySpan<byte> data)
    {
        if (!IsPeerUrlsEntry(data))
        {
            throw new InvalidDataException("not a member peer-URLs entry");
        }

        return JsonSerializer.Deserialize<MemberPeerUrlsEntry>(data[1..])
            ?? throw new InvalidDataException("a member peer-URLs entry holds empty JSON");
    }
}
