using System.Text;

namespace Bulwark.Server.Api.Http2;

/// <summary>The HPACK static table (RFC 7541 Appendix A), indices 1..61.</summary>
internal static class HpackStaticTable
{
    private static readonly HeaderField[] Entries =
    [
        F(":authority"), F(":method", "GET"), F(":method", "POST"), F(":path", "/"), F(":path", "/index.html"),
        F(":scheme", "http"), F(":scheme", "https"), F(":status", "200"), F(":status", "204"), F(":status", "206"),
        F(":status", "304"), F(":status", "400"), F(":status", "404"), F(":status", "500"), F("accept-charset"),
        F("accept-encoding", "gzip, deflate"), F("accept-language"), F("accept-ranges"), F("accept"),
        F("access-control-allow-origin"), F("age"), F("allow"), F("authorization"), F("cache-control"),
        F("content-disposition"), F("content-encoding"), F("content-language"), F("content-length"),
        F("content-location"), F("content-range"), F("content-type"), F("cookie"), F("date"), F("etag"),
        F("expect"), F("expires"), F("from"), F("host"), F("if-match"), F("if-modified-since"), F("if-none-match"),
        F("if-range"), F("if-unmodified-since"), F("last-modified"), F("link"), F("location"), F("max-forwards"),
        F("proxy-authenticate"), F("proxy-authorization"), F("range"), F("referer"), F("refresh"), F("retry-after"),
        F("server"), F("set-cookie"), F("strict-transport-security"), F("transfer-encoding"), F("user-agent"),
        F("vary"), F("via"), F("www-authenticate"),
    ];

    /// <summary>The name of static entry 1, the only :authority name in the static table.</summary>
    public static ReadOnlySpan<byte> AuthorityName => ":authority"u8;

    private static readonly Dictionary<string, int> FirstIndexByName = BuildNameIndex();

    /// <summary>Number of entries (61).</summary>
    public static int Count => Entries.Length;

    /// <summary>The entry at 1-based <paramref name="index"/>.</summary>
    public static HeaderField Get(int index) => Entries[index - 1];

    /// <summary>The name length in octets of the entry at 1-based <paramref name="index"/>.</summary>
    public static int NameLength(int index) => Entries[index - 1].Name.Length;

    /// <summary>The lowest static index whose name is <paramref name="name"/>, or 0.</summary>
    public static int IndexOfName(ReadOnlySpan<byte> name) =>
        FirstIndexByName.TryGetValue(Encoding.Latin1.GetString(name), out var index) ? index : 0;

    private static HeaderField F(string name, string value = "") =>
        new(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value));

    private static Dictionary<string, int> BuildNameIndex()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Entries.Length; i++)
        {
            map.TryAdd(Encoding.Latin1.GetString(Entries[i].Name), i + 1);
        }

        return map;
    }
}
