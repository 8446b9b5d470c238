using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// A refused membership change as etcd 3.4 answers it (etcd's rpctypes: ErrGRPCMemberNotFound, ErrGRPCPeerURLExist,
/// ErrGRPCMemberExist, ErrGRPCMemberNotLearner, ErrGRPCLearnerNotReady, ErrGRPCTooManyLearners,
/// ErrGRPCMemberNotEnoughStarted, ErrGRPCUnhealthy, ErrGRPCMemberBadURLs): same code, same message, as the real etcd 3.4
/// answers them.
/// </summary>
public static class MembershipErrorStatus
{
    public const string MemberNotFoundMessage = "etcdserver: member not found";
    public const string MemberIdExistsMessage = "etcdserver: member ID already exist";
    public const string PeerUrlExistsMessage = "etcdserver: Peer URLs already exists";
    public const string MemberNotLearnerMessage = "etcdserver: can only promote a learner member";
    public const string LearnerNotReadyMessage = "etcdserver: can only promote a learner member which is in sync with leader";
    public const string TooManyLearnersMessage = "etcdserver: too many learner members in cluster";
    public const string NotEnoughStartedMessage = "etcdserver: re-configuration failed due to not enough started members";
    public const string UnhealthyMessage = "etcdserver: unhealthy cluster";
    public const string BadMemberUrlsMessage = "etcdserver: given member URLs are invalid";

    public static Status For(MembershipError error) => error switch
    {
        MembershipError.MemberNotFound => new Status(StatusCode.NotFound, MemberNotFoundMessage),
        MembershipError.MemberIdExists => new Status(StatusCode.FailedPrecondition, MemberIdExistsMessage),
        MembershipError.PeerUrlExists => new Status(StatusCode.FailedPrecondition, PeerUrlExistsMessage),
        MembershipError.MemberNotLearner => new Status(StatusCode.FailedPrecondition, MemberNotLearnerMessage),
        MembershipError.LearnerNotReady => new Status(StatusCode.FailedPrecondition, LearnerNotReadyMessage),
        MembershipError.TooManyLearners => new Status(StatusCode.FailedPrecondition, TooManyLearnersMessage),
        // etcd 3.4's server maps this one to its client-side error value rather than to a gRPC status, so the real etcd
        // answers it with code Unknown (seen side by side in MembershipBadInputTests); clients match on the message.
        MembershipError.NotEnoughStartedMembers => new Status(StatusCode.Unknown, NotEnoughStartedMessage),
        MembershipError.Unhealthy => new Status(StatusCode.Unavailable, UnhealthyMessage),
        MembershipError.BadMemberUrls => new Status(StatusCode.InvalidArgument, BadMemberUrlsMessage),
        _ => new Status(StatusCode.Unknown, $"etcdserver: {error}"),
    };

    public static RpcException ToRpcException(MembershipException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new RpcException(For(error.Error));
    }
}
