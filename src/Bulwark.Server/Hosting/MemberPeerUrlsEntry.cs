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

    public static bool IsPeerUrlsEntry(ReadOnlySpan<byte> data) => MarkedJsonEntry.Has(Marker, data);

    public byte[] Encode() => MarkedJsonEntry.Encode(Marker, this);

    public static MemberPeerUrlsEntry Decode(ReadOnlySpan<byte> data) => MarkedJsonEntry.Decode<MemberPeerUrlsEntry>(Marker, data, "member peer-URLs entry");
}
