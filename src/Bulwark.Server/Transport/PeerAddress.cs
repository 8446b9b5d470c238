namespace Bulwark.Server.Transport;

/// <summary>Where a peer listens: parsed from "host:port", "[v6]:port" or a URL such as "http://host:port".</summary>
public sealed record PeerAddress(string Host, int Port)
{
    public static PeerAddress Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var text = address.Contains("://", StringComparison.Ordinal) ? address : "tcp://" + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.IsDefaultPort || uri.Port <= 0)
        {
            throw new FormatException($"peer address '{address}' is not host:port (or a URL with an explicit port)");
        }

        return new PeerAddress(uri.Host.Trim('[', ']'), uri.Port);
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
