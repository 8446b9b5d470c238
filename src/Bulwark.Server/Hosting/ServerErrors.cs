using Grpc.Core;

namespace Bulwark.Server.Hosting;

/// <summary>The node-level errors etcd gives (same gRPC status codes and messages, which clients match on).</summary>
public static class ServerErrors
{
    public const string NoLeaderMessage = "etcdserver: no leader";
    public const string TimeoutMessage = "etcdserver: request timed out";
    public const string LeaderChangedMessage = "etcdserver: leader changed";
    public const string TooManyRequestsMessage = "etcdserver: too many requests";
    public const string StoppedMessage = "etcdserver: server stopped";

    public static RpcException NoLeader() => new(new Status(StatusCode.Unavailable, NoLeaderMessage));

    public static RpcException Timeout() => new(new Status(StatusCode.Unavailable, TimeoutMessage));

    public static RpcException LeaderChanged() => new(new Status(StatusCode.Unavailable, LeaderChangedMessage));

    public static RpcException TooManyRequests() => new(new Status(StatusCode.ResourceExhausted, TooManyRequestsMessage));

    public static RpcException Stopped(string why) => new(new Status(StatusCode.Unavailable, $"{StoppedMessage} ({why})"));
}
