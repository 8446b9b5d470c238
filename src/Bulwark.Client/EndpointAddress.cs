namespace Bulwark.Client;

/// <summary>Turns what a user writes as an endpoint ("host:port" or a URL) into the absolute http(s) URI gRPC needs.</summary>
internal static class EndpointAddress
{
    public static Uri Parse(string? endpoint)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            throw new ArgumentException("an endpoint is empty: give a client URL such as http://127.0.0.1:2379", nameof(endpoint));
        }

        var text = endpoint.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{endpoint}' is not a client URL: expected http://host:port or https://host:port", nameof(endpoint));
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>The same member whatever way its URL is written (trailing slash, host case).</summary>
    public static string Normalize(Uri uri) => uri.GetLeftPart(UriPartial.Authority).ToUpperInvariant();
}
