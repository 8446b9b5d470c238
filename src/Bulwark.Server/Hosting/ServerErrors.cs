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
    public const string NoSpaceMessage = "etcdserver: mvcc: database space exceeded";
    public const string DiskBlockedMessage =
        "etcdserver: this member cannot write to its disk (alarm NOSPACE), so it cannot serve linearizable reads; " +
        "use a serializable read or another member";

    public static RpcException NoLeader() => new(new Status(StatusCode.Unavailable, NoLeaderMessage));

    public static RpcException Timeout() => new(new Status(StatusCode.Unavailable, TimeoutMessage));

    public static RpcException LeaderChanged() => new(new Status(StatusCode.Unavailable, LeaderChangedMessage));

    public static RpcException TooManyRequests() => new(new Status(StatusCode.ResourceExhausted, TooManyRequestsMessage));

    /// <summary>etcd's ErrGRPCNoSpace: the member's NOSPACE alarm is raised, so it refuses writes (clients match the text).</summary>
    public static RpcException NoSpace() => new(new Status(StatusCode.ResourceExhausted, NoSpaceMessage));

    /// <summary>A linearizable read on a member whose Raft loop is paused by a full disk: fails at once instead of hanging.</summary>
    public static RpcException DiskBlocked() => new(new Status(StatusCode.Unavailable, DiskBlockedMessage));

    public static RpcException Stopped(string why) => new(new Status(StatusCode.Unavailable, $"{StoppedMessage} ({why})"));
}
