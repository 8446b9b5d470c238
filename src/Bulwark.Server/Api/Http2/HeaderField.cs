namespace Bulwark.Server.Api.Http2;

/// <summary>One decoded header field; <see cref="NeverIndexed"/> keeps the sender's "never indexed" marking (RFC 7541 6.2.3).</summary>
internal sealed record HeaderField(byte[] Name, byte[] Value, bool NeverIndexed = false)
{
    /// <summary>HPACK's size of an entry: name and value octets plus 32.</summary>
    public int TableSize => Name.Length + Value.Length + 32;

    public override string ToString() =>
        System.Text.Encoding.Latin1.GetString(Name) + ": " + System.Text.Encoding.Latin1.GetString(Value);
}
