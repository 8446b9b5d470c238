namespace Bulwark.Server.Hosting;

/// <summary>
/// What a member publishes about itself through the log when it starts (as etcd does), so every member learns every
/// member's client URLs. Encoded as a Normal entry whose first byte is <see cref="Marker"/>: 0xFF can never start a
/// protobuf message (it would be a tag with wire type 7), so it cannot be mistaken for a key-value command.
/// </summary>
public sealed record MemberAttributes(ulong Id, string Name, string[] ClientUrls)
{
    public const byte Marker = 0xFF;

    public static bool IsAttributesEntry(ReadOnlySpan<byte> data) => MarkedJsonEntry.Has(Marker, data);

    public byte[] Encode() => MarkedJsonEntry.Encode(Marker, this);

    public static MemberAttributes Decode(ReadOnlySpan<byte> data) => MarkedJsonEntry.Decode<MemberAttributes>(Marker, data, "member-attributes entry");

    public bool SameAs(MemberAttributes other) =>
        other is not null && other.Id == Id && other.Name == Name && other.ClientUrls.SequenceEqual(ClientUrls);
}
