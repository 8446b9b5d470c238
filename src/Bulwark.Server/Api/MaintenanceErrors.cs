using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>The errors of Maintenance.MoveLeader and Alarm, with etcd's rpctypes status codes and messages (clients match on them).</summary>
public static class MaintenanceErrors
{
    public const string NotLeaderMessage = "etcdserver: not leader";
    public const string BadLeaderTransfereeMessage = "etcdserver: bad leader transferee";
    public const string LeaderTransferTimeoutMessage = "etcdserver: request timed out, leader transfer took too long";
    public const string MemberNotFoundMessage = "etcdserver: member not found";

    /// <summary>etcd's ErrGRPCNotLeader: MoveLeader reached a member that does not lead.</summary>
    public static RpcException NotLeader() => new(new Status(StatusCode.FailedPrecondition, NotLeaderMessage));

    /// <summary>etcd's ErrGRPCBadLeaderTransferee: the target is not a voting member of the cluster.</summary>
    public static RpcException BadLeaderTransferee() => new(new Status(StatusCode.FailedPrecondition, BadLeaderTransfereeMessage));

    /// <summary>etcd's ErrGRPCTimeoutLeaderTransfer: leadership did not move within the request timeout.</summary>
    public static RpcException LeaderTransferTimeout() => new(new Status(StatusCode.Unavailable, LeaderTransferTimeoutMessage));

    /// <summary>etcd's ErrGRPCMemberNotFound: an alarm activated for a member id the cluster does not have.</summary>
    public static RpcException MemberNotFound() => new(new Status(StatusCode.NotFound, MemberNotFoundMessage));
}
