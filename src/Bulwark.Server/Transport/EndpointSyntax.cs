using System.Net;

namespace Bulwark.Server.Transport;

/// <summary>
/// The one parser for the network endpoints a node is given: peer addresses (<see cref="PeerAddress"/>), listen URLs
/// (<see cref="ServerHost.EndpointOf"/>, the peer listener) and the URL settings checked at startup
/// (Configuration.UrlSetting). Each caller keeps its own rules and error messages on top (which schemes, whether a
/// port must be written); what "host", "port" and "listen on" mean is decided here once.
/// </summary>
public static class EndpointSyntax
{
    /// <summary>
    /// Parses "scheme://host[:port][/path]" or, when <paramref name="defaultScheme"/> is given, also "host:port" and
    /// "[v6]:port" (read as <paramref name="defaultScheme"/>://host:port). Null when the text is not such a URI or
    /// names no host. <see cref="Uri.OriginalString"/> is the text parsed, scheme included.
    /// </summary>
    public static Uri? TryParse(string text, string? defaultScheme)
    {
        ArgumentNullException.ThrowIfNull(text);
        var withScheme = defaultScheme is null || text.Contains("://", StringComparison.Ordinal) ? text : defaultScheme + "://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? uri : null;
    }

    /// <summary>The host without IPv6 brackets ("::1" for "[::1]").</summary>
    public static string HostOf(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.Host.Trim('[', ']');
    }

    /// <summary>
    /// Whether the port is written out. <see cref="Uri"/> fills in the scheme's default (80 for http) when none is,
    /// and a member must name its ports explicitly.
    /// </summary>
    public static bool HasExplicitPort(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var text = uri.OriginalString;
        var afterScheme = text.IndexOf("://", StringComparison.Ordinal) + 3;
        var authorityEnd = text.IndexOf('/', afterScheme);
        var authority = authorityEnd < 0 ? text[afterScheme..] : text[afterScheme..authorityEnd];
        var colon = authority.LastIndexOf(':');
        return colon >= 0 && colon > authority.LastIndexOf(']') && colon < authority.Length - 1;
    }

    /// <summary>Where to listen for <paramref name="host"/>: "localhost" means loopback, an IP itself, a host name all interfaces.</summary>
    public static IPEndPoint ListenEndpoint(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        var ip = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed : IPAddress.Any;
        return new IPEndPoint(ip, port);
    }
}
