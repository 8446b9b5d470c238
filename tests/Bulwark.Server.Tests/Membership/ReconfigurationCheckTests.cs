using Bulwark.Consensus;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Membership;

/// <summary>etcd 3.4's membership rules as the leader applies them before proposing (nothing refused reaches the log).</summary>
public sealed class ReconfigurationCheckTests
{
    private const ulong Leader = 1;

    private static ClusterMember Voter(ulong id, bool started = true) => new(id, started ? $"n{id}" : "", [$"http://127.0.0.1:{9000 + id}"], []);

    private static ClusterMember Learner(ulong id, bool started = true) => Voter(id, started) with { IsLearner = true };

    private static ReconfigurationView View(IEnumerable<ClusterMember> members, IEnumerable<ulong>? connected = null,
        IEnumerable<(ulong Id, ulong Match)>? progress = null, IEnumerable<ulong>? removed = null)
    {
        var list = members.ToList();
        return new ReconfigurationView(
            Leader,
            list,
            (removed ?? []).ToHashSet(),
            (progress ?? list.Select(m => (m.Id, 100UL))).Select(p => new FollowerProgress(p.Id, p.Match, p.Match + 1, ProgressState.Replicate, true, false)).ToList(),
            (connected ?? list.Select(m => m.Id).Where(id => id != Leader)).ToHashSet());
    }

    private static MembershipError? ErrorOf(MembershipRequest request, ReconfigurationView view) => ReconfigurationCheck.Check(request, view)?.Error;

    [Fact]
    public void A_learner_can_be_added_to_a_healthy_cluster()
    {
        Assert.Null(ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:1"], IsLearner: true), View([Voter(1), Voter(2), Voter(3)])));
    }

    [Fact]
    public void Only_one_learner_at_a_time()
    {
        var view = View([Voter(1), Voter(2), Voter(3), Learner(4)]);
        Assert.Equal(MembershipError.TooManyLearners, ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:1"], IsLearner: true), view));
    }

    [Fact]
    public void A_peer_url_in_use_or_a_taken_id_is_refused()
    {
        var view = View([Voter(1), Voter(2), Voter(3)], removed: [7]);
        Assert.Equal(MembershipError.PeerUrlExists, ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:9002"], true), view));
        Assert.Equal(MembershipError.MemberIdExists, ErrorOf(new MembershipRequest.Add(2, ["http://127.0.0.1:1"], true), view));
        Assert.Equal(MembershipError.MemberIdExists, ErrorOf(new MembershipRequest.Add(7, ["http://127.0.0.1:1"], true), view)); // removed ids are never reused
    }

    [Fact]
    public void Adding_while_a_voter_is_disconnected_is_unhealthy()
    {
        var view = View([Voter(1), Voter(2), Voter(3)], connected: [2]);
        Assert.Equal(MembershipError.Unhealthy, ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:1"], true), view));
    }

    [Fact]
    public void Adding_a_voter_that_would_leave_too_few_started_voters_is_refused()
    {
        // 2 started of 3 voters plus an unstarted one: a fourth would need 3 started for a quorum of 4... and a fifth
        // unstarted voter leaves 2 of 4 started.
        var view = View([Voter(1), Voter(2), Voter(3, started: false)]);
        Assert.Equal(MembershipError.NotEnoughStartedMembers, ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:1"], IsLearner: false), view));
        Assert.Null(ErrorOf(new MembershipRequest.Add(9, ["http://127.0.0.1:1"], IsLearner: false), View([Voter(1)]))); // growing one member
    }

    [Fact]
    public void Removing_the_last_voter_or_an_unknown_member_is_refused()
    {
        Assert.Equal(MembershipError.NotEnoughStartedMembers, ErrorOf(new MembershipRequest.Remove(1), View([Voter(1)])));
        Assert.Equal(MembershipError.MemberNotFound, ErrorOf(new MembershipRequest.Remove(42), View([Voter(1), Voter(2), Voter(3)])));
        Assert.Equal(MembershipError.MemberNotFound, ErrorOf(new MembershipRequest.Remove(7), View([Voter(1), Voter(2), Voter(3)], removed: [7])));
    }

    [Fact]
    public void Removing_a_connected_voter_that_would_lose_the_quorum_is_unhealthy_but_a_down_one_may_go()
    {
        // 3 voters, only the leader and 2 connected: removing 2 leaves the leader alone with a down 3.
        var view = View([Voter(1), Voter(2), Voter(3)], connected: [2]);
        Assert.Equal(MembershipError.Unhealthy, ErrorOf(new MembershipRequest.Remove(2), view));
        Assert.Null(ErrorOf(new MembershipRequest.Remove(3), view)); // the down member itself
        Assert.Null(ErrorOf(new MembershipRequest.Remove(2), View([Voter(1), Voter(2), Voter(3)])));
    }

    [Fact]
    public void Removing_a_learner_needs_no_quorum_check()
    {
        Assert.Null(ErrorOf(new MembershipRequest.Remove(4), View([Voter(1), Voter(2), Voter(3), Learner(4)], connected: [])));
    }

    [Fact]
    public void Only_a_learner_in_sync_with_the_leader_is_promoted()
    {
        var members = new[] { Voter(1), Voter(2), Voter(3), Learner(4) };
        Assert.Equal(MembershipError.MemberNotLearner, ErrorOf(new MembershipRequest.Promote(2), View(members)));
        Assert.Equal(MembershipError.MemberNotFound, ErrorOf(new MembershipRequest.Promote(42), View(members)));
        Assert.Equal(MembershipError.LearnerNotReady,
            ErrorOf(new MembershipRequest.Promote(4), View(members, progress: [(1, 1000), (2, 1000), (3, 1000), (4, 899)])));
        Assert.Null(ErrorOf(new MembershipRequest.Promote(4), View(members, progress: [(1, 1000), (2, 1000), (3, 1000), (4, 900)])));
        Assert.Equal(MembershipError.LearnerNotReady, ErrorOf(new MembershipRequest.Promote(4), View(members, progress: [(1, 10), (2, 10), (3, 10)])));
    }

    [Fact]
    public void An_update_needs_a_member_and_free_peer_urls()
    {
        var members = new[] { Voter(1), Voter(2), Voter(3) };
        Assert.Equal(MembershipError.MemberNotFound, ErrorOf(new MembershipRequest.Update(42, ["http://127.0.0.1:1"]), View(members)));
        Assert.Equal(MembershipError.PeerUrlExists, ErrorOf(new MembershipRequest.Update(2, ["http://127.0.0.1:9003"]), View(members)));
        Assert.Null(ErrorOf(new MembershipRequest.Update(2, ["http://127.0.0.1:9002"]), View(members))); // its own URL
        Assert.Null(ErrorOf(new MembershipRequest.Update(2, ["http://127.0.0.1:1"]), View(members)));
    }
}
