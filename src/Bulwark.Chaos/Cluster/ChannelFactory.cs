using Grpc.Net.Client;

namespace Bulwark.Chaos.Cluster;

/// <summary>gRPC channels to members: one HTTP/2 connection each, a short connect timeout (a cut or paused member
/// must not hold a caller past its own deadline), never closed for idleness.</summary>
public static class ChannelFactory
{
    public static GrpcChannel Create(string url) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(1),
        },
        DisposeHttpClient = true,
    });
}
