namespace Bulwark.Server.Transport;

/// <summary>Where a peer listens: parsed from "host:port", "[v6]:port" or a URL such as "http://host:port".</summary>
public sealed record PeerAddress(string Host, int Port)
{
    public static PeerAddress Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (EndpointSyntax.TryParse(address, "tcp") is not { } uri || uri.IsDefaultPort || uri.Port <= 0)
        {
            throw new FormatException($"peer address '{address}' is not host:port (or a URL with an explicit port)");
        }

        return new PeerAddress(EndpointSyntax.HostOf(uri), uri.Port);
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
