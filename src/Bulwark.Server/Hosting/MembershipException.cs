namespace Bulwark.Server.Hosting;

/// <summary>Why a membership change was refused (each is one of etcd's errors; the API maps it to etcd's status).</summary>
public enum MembershipError
{
    /// <summary>No such member, or it was removed (etcd: "member not found").</summary>
    MemberNotFound,

    /// <summary>The id chosen for a new member is taken (etcd: "member ID already exist").</summary>
    MemberIdExists,

    /// <summary>Another member already has one of the peer URLs (etcd: "Peer URLs already exists").</summary>
    PeerUrlExists,

    /// <summary>Only a learner can be promoted (etcd: "can only promote a learner member").</summary>
    MemberNotLearner,

    /// <summary>The learner's log is not within 90 % of the leader's (etcd: "... which is in sync with leader").</summary>
    LearnerNotReady,

    /// <summary>The cluster already has its one learner (etcd 3.4 allows one).</summary>
    TooManyLearners,

    /// <summary>The change would leave fewer started voters than a quorum (etcd's strict reconfiguration check).</summary>
    NotEnoughStartedMembers,

    /// <summary>Too few voters are connected to the leader for the change to be safe (etcd: "unhealthy cluster").</summary>
    Unhealthy,

    /// <summary>A peer URL is not http://host:port (etcd: "given member URLs are invalid").</summary>
    BadMemberUrls,
}

/// <summary>A membership change the leader refused; nothing changed.</summary>
public sealed class MembershipException(MembershipError error, string detail) : Exception(detail)
{
    public MembershipError Error { get; } = error;
}

/// <summary>Another membership change is still on its way (not yet committed and applied): the caller tries again.</summary>
internal sealed class ReconfigurationBusyException() : Exception("another membership change is in progress");
