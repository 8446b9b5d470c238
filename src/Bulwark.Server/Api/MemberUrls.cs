using Bulwark.Server.Hosting;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Api;

/// <summary>
/// Peer URLs a client gives for a member (MemberAdd, MemberUpdate), checked as etcd's types.NewURLs checks them: at least
/// one; each a URL with a scheme, host:port and no path. Bulwark's peer transport speaks TCP or TLS, so of etcd's
/// schemes (http, https, unix, unixs) http and https are taken; the rest are refused as invalid, as etcd refuses other schemes.
/// </summary>
public static class MemberUrls
{
    /// <exception cref="MembershipException">BadMemberUrls (etcd: "given member URLs are invalid"); nothing changed.</exception>
    public static IReadOnlyList<string> Parse(IEnumerable<string> urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var parsed = new List<string>();
        foreach (var raw in urls)
        {
            var text = raw.Trim();
            if (EndpointSyntax.TryParse(text, defaultScheme: null) is not { } uri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw Invalid($"'{text}' is not an http:// or https:// URL");
            }

            var afterAuthority = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
            if (!EndpointSyntax.HasExplicitPort(uri) || uri.Port is <= 0 or > 65535 || afterAuthority.Contains('/', StringComparison.Ordinal) ||
                !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw Invalid($"'{text}' is not http(s)://host:port");
            }

            parsed.Add($"{uri.Scheme}://{uri.Authority}");
        }

        return parsed.Count == 0 ? throw Invalid("no peer URL given") : parsed.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
    }

    private static MembershipException Invalid(string detail) => new(MembershipError.BadMemberUrls, detail);
}
