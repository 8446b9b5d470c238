using Grpc.Net.Client;

namespace Bulwark.Server.Security;

/// <summary>
/// gRPC channels one member opens to another's client URL (forwarding to the leader, the status page's probes, the
/// corruption check's HashKV). An https URL is dialled with the member's client TLS: it trusts the client CA and
/// presents the member's own certificate, so a cluster with --client-cert-auth still talks to itself.
/// </summary>
public static class MemberChannels
{
    public static GrpcChannel Create(string url, TlsCredentials? tls)
    {
        ArgumentNullException.ThrowIfNull(url);
        var address = url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url;
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = null };
        if (tls is not null && address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            options.HttpHandler = tls.HttpHandler();
            options.DisposeHttpClient = true;
        }

        return GrpcChannel.ForAddress(address, options);
    }
}
