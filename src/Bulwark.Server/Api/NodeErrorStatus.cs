using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// The one place a node-level error becomes what etcd answers for it: the same gRPC status code and message, which
/// clients match on (etcd's rpctypes: ErrGRPCNoLeader, ErrGRPCTimeout, ErrGRPCLeaderChanged, ErrGRPCTooManyRequests,
/// ErrGRPCNoSpace, ErrGRPCStopped).
/// </summary>
public static class NodeErrorStatus
{
    public const string NoLeaderMessage = "etcdserver: no leader";
    public const string TimeoutMessage = "etcdserver: request timed out";
    public const string LeaderChangedMessage = "etcdserver: leader changed";
    public const string TooManyRequestsMessage = "etcdserver: too many requests";
    public const string StoppedMessage = "etcdserver: server stopped";
    public const string NoSpaceMessage = "etcdserver: mvcc: database space exceeded";

    /// <summary>
    /// Bulwark's own (etcd keeps its applied state on disk, so a restarted etcd member has nothing to re-apply):
    /// Unavailable, so etcd clients retry on another endpoint, and says why.
    /// </summary>
    public const string CatchingUpMessage =
        "etcdserver: this member is catching up (applying entries committed before it started); retry, or use another member";

    /// <summary>Bulwark's own (etcd has no member that refuses reads for a full disk): says what to do instead.</summary>
    public const string DiskBlockedMessage =
        "etcdserver: this member cannot write to its disk (alarm NOSPACE), so it cannot serve linearizable reads; " +
        "use a serializable read or another member";

    public static Status For(NodeException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Error switch
        {
            NodeError.NoLeader => new Status(StatusCode.Unavailable, NoLeaderMessage),
            NodeError.Timeout => new Status(StatusCode.Unavailable, TimeoutMessage),
            NodeError.LeaderChanged => new Status(StatusCode.Unavailable, LeaderChangedMessage),
            NodeError.TooManyRequests => new Status(StatusCode.ResourceExhausted, TooManyRequestsMessage),
            NodeError.CatchingUp => new Status(StatusCode.Unavailable, CatchingUpMessage),
            NodeError.NoSpace => new Status(StatusCode.ResourceExhausted, NoSpaceMessage),
            NodeError.DiskBlocked => new Status(StatusCode.Unavailable, DiskBlockedMessage),
            NodeError.Stopped => new Status(StatusCode.Unavailable, $"{StoppedMessage} ({error.Reason})"),
            _ => new Status(StatusCode.Unknown, error.Message),
        };
    }

    /// <summary>
    /// Bulwark's own response trailer (etcd clients ignore it): present, with value "1", when the member refused the
    /// request before it reached any log (<see cref="NodeException.NeverProposed"/>), so the request surely did not and
    /// will not take effect. Bulwark.Client retries a plain put on such an answer (CallFailures.ProvesNotApplied uses
    /// the same name); without it, an error after sending leaves the outcome open.
    /// </summary>
    public const string NotProposedTrailer = "bulwark-not-proposed";

    /// <summary>The exception a gRPC service throws to send this error to the client.</summary>
    public static RpcException ToRpcException(NodeException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.NeverProposed
            ? new RpcException(For(error), new Metadata { { NotProposedTrailer, "1" } })
            : new RpcException(For(error));
    }
}
