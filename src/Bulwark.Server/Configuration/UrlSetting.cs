using Bulwark.Server.Transport;

namespace Bulwark.Server.Configuration;

/// <summary>Checks a listen/advertise/peer URL: http or https (the metrics URL: http only), a host, an explicit port.</summary>
internal static class UrlSetting
{
    public static string Parse(string setting, string text, string what, bool httpsAllowed = true)
    {
        if (EndpointSyntax.TryParse(text, defaultScheme: null) is not { } uri)
        {
            throw new ConfigurationException(setting, $"{what} '{text}' is not a URL like http://127.0.0.1:2380");
        }

        if (uri.Scheme != Uri.UriSchemeHttp && !(httpsAllowed && uri.Scheme == Uri.UriSchemeHttps))
        {
            throw new ConfigurationException(setting, $"{what} '{text}' uses scheme '{uri.Scheme}'; only {(httpsAllowed ? "http and https are" : "http is")} supported");
        }

        // Uri fills in 80 (443) for http (https) when no port is written; a member must name its port explicitly.
        if (!EndpointSyntax.HasExplicitPort(uri) || uri.Port is <= 0 or > 65535)
        {
            throw new ConfigurationException(setting, $"{what} '{text}' needs an explicit port (e.g. http://{uri.Host}:2380)");
        }

        if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
        {
            throw new ConfigurationException(setting, $"{what} '{text}' must not have a path or query");
        }

        return $"{uri.Scheme}://{uri.Authority}";
    }

    public static IReadOnlyList<string> ParseList(string setting, string text, string what)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ConfigurationException(setting, $"no {what} given");
        }

        return parts.Select(p => Parse(setting, p, what)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
