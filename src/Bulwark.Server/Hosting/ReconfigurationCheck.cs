using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>What the leader knows when it decides on a membership change (taken on its loop, all at one moment).</summary>
/// <param name="Members">The member table as applied (names tell which members started).</param>
/// <param name="Removed">Ids of removed members.</param>
/// <param name="Progress">The leader's replication progress per member (its own entry included).</param>
/// <param name="Connected">Peers this leader holds a live connection to (itself excluded).</param>
public sealed record ReconfigurationView(
    ulong LeaderId,
    IReadOnlyList<ClusterMember> Members,
    IReadOnlySet<ulong> Removed,
    IReadOnlyList<FollowerProgress> Progress,
    IReadOnlySet<ulong> Connected);

/// <summary>
/// etcd 3.4's rules for membership changes, run by the leader before it proposes one, so a refused change never
/// reaches the log: the change must make sense for the membership (member exists, peer URLs free, one learner at
/// most, only learners promoted and only once in sync) and, as etcd's strict reconfiguration check, must not leave
/// the cluster without a quorum of started, connected voters. Pure: the view is taken on the loop.
/// </summary>
public static class ReconfigurationCheck
{
    /// <summary>etcd 3.4's maxLearners.</summary>
    public const int MaxLearners = 1;

    /// <summary>etcd's readyPercent: a learner is in sync once its match is at least this share of the leader's.</summary>
    public const double LearnerReadyFraction = 0.9;

    /// <summary>Null when the change may go ahead, else why not (with a detail for the log).</summary>
    public static (MembershipError Error, string Detail)? Check(MembershipRequest request, ReconfigurationView view)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(view);
        return request switch
        {
            MembershipRequest.Add add => CheckAdd(add, view),
            MembershipRequest.Remove remove => CheckRemove(remove, view),
            MembershipRequest.Promote promote => CheckPromote(promote, view),
            MembershipRequest.Update update => CheckUpdate(update, view),
            _ => throw new ArgumentException($"unknown membership request {request.GetType().Name}", nameof(request)),
        };
    }

    private static (MembershipError, string)? CheckAdd(MembershipRequest.Add add, ReconfigurationView view)
    {
        var voters = Voters(view);
        if (!add.IsLearner && !ReadyToAddVoter(voters))
        {
            return (MembershipError.NotEnoughStartedMembers, $"{voters.Count(m => m.IsStarted)} of {voters.Count} voters started; adding a voter would leave too few for a quorum");
        }

        if (voters.FirstOrDefault(m => !IsConnected(m.Id, view)) is { } down)
        {
            return (MembershipError.Unhealthy, $"voter {down.Id:x} is not connected to the leader");
        }

        if (view.Removed.Contains(add.NewId) || view.Members.Any(m => m.Id == add.NewId) || add.NewId == 0)
        {
            return (MembershipError.MemberIdExists, $"id {add.NewId:x} is taken");
        }

        if (UrlInUse(add.PeerUrls, view, except: 0) is { } used)
        {
            return (MembershipError.PeerUrlExists, $"{used.Url} is member {used.Id:x}'s");
        }

        if (add.IsLearner && view.Members.Count(m => m.IsLearner) + 1 > MaxLearners)
        {
            return (MembershipError.TooManyLearners, $"the cluster has {MaxLearners} learner(s) already");
        }

        return null;
    }

    private static (MembershipError, string)? CheckRemove(MembershipRequest.Remove remove, ReconfigurationView view)
    {
        if (view.Members.FirstOrDefault(m => m.Id == remove.Id) is not { } target)
        {
            return (MembershipError.MemberNotFound, $"{remove.Id:x} is not a member");
        }

        if (target.IsLearner)
        {
            return null; // a learner is not part of any quorum
        }

        var voters = Voters(view);
        var others = voters.Where(m => m.Id != remove.Id).ToList();
        if (others.Count(m => m.IsStarted) < others.Count / 2 + 1)
        {
            return (MembershipError.NotEnoughStartedMembers, $"without {remove.Id:x}, {others.Count(m => m.IsStarted)} of {others.Count} voters started");
        }

        if (remove.Id != view.LeaderId && !IsConnected(remove.Id, view))
        {
            return null; // a member that is down is not part of the active quorum
        }

        var active = voters.Count(m => IsConnected(m.Id, view));
        if (active - 1 < 1 + (voters.Count - 1) / 2)
        {
            return (MembershipError.Unhealthy, $"only {active} of {voters.Count} voters are connected; removing {remove.Id:x} would lose the quorum");
        }

        return null;
    }

    private static (MembershipError, string)? CheckPromote(MembershipRequest.Promote promote, ReconfigurationView view)
    {
        if (view.Members.FirstOrDefault(m => m.Id == promote.Id) is not { } target)
        {
            return (MembershipError.MemberNotFound, $"{promote.Id:x} is not a member");
        }

        if (!target.IsLearner)
        {
            return (MembershipError.MemberNotLearner, $"{promote.Id:x} is a voter");
        }

        var leaderMatch = view.Progress.FirstOrDefault(p => p.Id == view.LeaderId).Match;
        var learnerMatch = view.Progress.FirstOrDefault(p => p.Id == promote.Id).Match;
        if (learnerMatch < leaderMatch * LearnerReadyFraction)
        {
            return (MembershipError.LearnerNotReady, $"learner {promote.Id:x} has index {learnerMatch}, the leader {leaderMatch}");
        }

        var voters = Voters(view);
        // The learner counts as started and as a future voter (etcd's IsReadyToPromoteMember).
        if (voters.Count(m => m.IsStarted) + 1 < (voters.Count + 1) / 2 + 1)
        {
            return (MembershipError.NotEnoughStartedMembers, $"{voters.Count(m => m.IsStarted)} of {voters.Count} voters started");
        }

        return null;
    }

    private static (MembershipError, string)? CheckUpdate(MembershipRequest.Update update, ReconfigurationView view)
    {
        if (view.Members.All(m => m.Id != update.Id))
        {
            return (MembershipError.MemberNotFound, $"{update.Id:x} is not a member");
        }

        if (UrlInUse(update.PeerUrls, view, except: update.Id) is { } used)
        {
            return (MembershipError.PeerUrlExists, $"{used.Url} is member {used.Id:x}'s");
        }

        return null;
    }

    private static List<ClusterMember> Voters(ReconfigurationView view) => view.Members.Where(m => !m.IsLearner).ToList();

    /// <summary>etcd's IsReadyToAddVotingMember: the started voters stay a quorum of the grown cluster.</summary>
    private static bool ReadyToAddVoter(List<ClusterMember> voters)
    {
        var members = voters.Count + 1;
        var started = voters.Count(m => m.IsStarted);
        if (started == 1 && members == 2)
        {
            return true; // growing a one-member cluster (etcd: restoring a cluster from one member's data)
        }

        return started >= members / 2 + 1;
    }

    private static bool IsConnected(ulong id, ReconfigurationView view) => id == view.LeaderId || view.Connected.Contains(id);

    private static (string Url, ulong Id)? UrlInUse(IReadOnlyList<string> urls, ReconfigurationView view, ulong except)
    {
        foreach (var member in view.Members.Where(m => m.Id != except))
        {
            foreach (var url in urls)
            {
                if (member.PeerUrls.Any(u => SameUrl(u, url)))
                {
                    return (url, member.Id);
                }
            }
        }

        return null;
    }

    private static bool SameUrl(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
