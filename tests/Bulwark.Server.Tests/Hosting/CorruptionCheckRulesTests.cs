using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>The comparison rules of the corruption check (etcd's checkHashKV and the majority rule), one case each.</summary>
public sealed class CorruptionCheckRulesTests
{
    private const ulong Leader = 1;
    private const ulong Peer2 = 2;
    private const ulong Peer3 = 3;

    private static MemberHash At(ulong id, uint hash, long revision = 10, long compact = 0) => new(id, hash, revision, compact);

    [Fact]
    public void Equal_hashes_at_the_same_compact_revision_are_consistent()
    {
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7), [At(Peer2, 7), At(Peer3, 7)]);
        Assert.True(verdict.Consistent);
        Assert.Equal(2, verdict.Compared);
    }

    [Fact]
    public void A_follower_whose_hash_differs_from_the_majority_is_named()
    {
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7), [At(Peer2, 7), At(Peer3, 9)]);
        Assert.Equal([Peer3], verdict.Corrupted.Select(c => c.MemberId));
        Assert.Contains("majority", verdict.Corrupted[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_leader_is_named_when_it_is_the_odd_one_out()
    {
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 9), At(Leader, 9), [At(Peer2, 7), At(Peer3, 7)]);
        Assert.Equal([Leader], verdict.Corrupted.Select(c => c.MemberId));
    }

    [Fact]
    public void A_peer_that_has_not_reached_the_revision_is_not_a_mismatch()
    {
        // It answered "future revision", so it is not among the answers: only the one that did is compared.
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7, revision: 12), [At(Peer2, 7, revision: 11)]);
        Assert.True(verdict.Consistent);
        Assert.Equal(1, verdict.Compared);
    }

    [Fact]
    public void Hashes_are_not_compared_when_the_compact_revisions_differ()
    {
        // The peer has not applied the compaction the leader hashed after (its compact revision is lower): hashes differ
        // for that reason alone.
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7, compact: 5), At(Leader, 7, compact: 5), [At(Peer2, 9, compact: 0), At(Peer3, 7, compact: 5)]);
        Assert.True(verdict.Consistent);
        Assert.Equal(1, verdict.Compared);
    }

    [Fact]
    public void A_peer_ahead_of_the_leader_in_revision_or_compaction_is_named()
    {
        var ahead = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7, revision: 10), [At(Peer2, 7, revision: 11)]);
        Assert.Equal([Peer2], ahead.Corrupted.Select(c => c.MemberId));
        Assert.Contains("revision 11 is above the leader's 10", ahead.Corrupted[0].Reason, StringComparison.Ordinal);

        var compacted = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7, compact: 3), At(Leader, 7, compact: 3), [At(Peer3, 7, compact: 4)]);
        Assert.Equal([Peer3], compacted.Corrupted.Select(c => c.MemberId));
    }

    [Fact]
    public void The_leaders_own_hash_changing_at_one_revision_names_the_leader()
    {
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 8), [At(Peer2, 7), At(Peer3, 7)]);
        Assert.Equal([Leader], verdict.Corrupted.Select(c => c.MemberId));

        // A write in between moves the revision: a new hash then is expected, not corruption.
        Assert.True(CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 8, revision: 11), [At(Peer2, 7)]).Consistent);
    }

    [Fact]
    public void Without_a_majority_the_peer_that_differs_from_the_leader_is_named_as_etcd_does()
    {
        // Three members, one unreachable: leader and the other peer disagree, and neither hash has two votes.
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7), [At(Peer2, 9)]);
        Assert.Equal([Peer2], verdict.Corrupted.Select(c => c.MemberId));
        Assert.Contains("no hash has a majority", verdict.Corrupted[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void No_answers_is_consistent_but_compares_nothing()
    {
        var verdict = CorruptionCheckRules.Judge(Leader, 3, At(Leader, 7), At(Leader, 7), []);
        Assert.True(verdict.Consistent);
        Assert.Equal(0, verdict.Compared);
    }
}
