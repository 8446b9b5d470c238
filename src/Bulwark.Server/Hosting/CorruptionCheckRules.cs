using System.Globalization;

namespace Bulwark.Server.Hosting;

/// <summary>A hash of one member's store: etcd's HashKV answer (hash, the member's revision, its compact revision).</summary>
/// <param name="MemberId">Who answered (the response header's member id).</param>
/// <param name="Hash">HashKV at the revision the leader asked for.</param>
/// <param name="Revision">The member's current store revision when it hashed (the header's revision).</param>
/// <param name="CompactRevision">The member's compact revision when it hashed.</param>
public readonly record struct MemberHash(ulong MemberId, uint Hash, long Revision, long CompactRevision);

/// <summary>A member the check found inconsistent, and why.</summary>
public readonly record struct CorruptMember(ulong MemberId, string Reason);

/// <summary>What one run of the check concluded.</summary>
/// <param name="Corrupted">Members to raise the CORRUPT alarm for (none when everything agrees).</param>
/// <param name="Compared">Peers whose hash was compared with the leader's (same compact revision, revision reached).</param>
public sealed record CorruptionVerdict(IReadOnlyList<CorruptMember> Corrupted, int Compared)
{
    public bool Consistent => Corrupted.Count == 0;
}

/// <summary>
/// The comparison rules of the periodic corruption check, as a pure function (etcd 3.4's checkHashKV, plus a majority
/// rule to name the odd one out). The leader hashes at its revision (<c>first</c>), asks every peer for HashKV at that
/// revision, confirms it still leads with a linearizable read, and hashes again (<c>second</c>). Then:
/// <list type="bullet">
/// <item>The leader's own two hashes at the same revision and compact revision differ: the leader's store changed under
/// it without a write, so the leader is named.</item>
/// <item>A peer whose revision or compact revision is above the leader's (after the read barrier the leader has applied
/// everything committed) is named: it applied what was never committed.</item>
/// <item>A peer that has not reached the revision yet, or compacted past it, did not answer with a hash and is simply
/// not compared (the caller leaves it out): being behind is not corruption.</item>
/// <item>Hashes are compared only with peers whose compact revision equals the leader's at the first hash (a
/// compaction changes what is hashed). If they all equal the leader's, the cluster is consistent. Otherwise, if one
/// hash is held by a majority of the members (voters and learners alike: a learner's copy is as good a witness of
/// what the log says as a voter's), every member with another hash is named, the leader included
/// when it is the odd one out; if no hash has a majority (say the leader and the one peer that answered differ), each
/// peer that differs from the leader is named, as etcd does, since the leader cannot tell who is right.</item>
/// </list>
/// </summary>
public static class CorruptionCheckRules
{
    /// <param name="leaderId">The member running the check.</param>
    /// <param name="members">Members of the cluster, learners and the leader included (the majority is counted against it).</param>
    /// <param name="first">The leader's hash before asking the peers.</param>
    /// <param name="second">The leader's hash after the read barrier.</param>
    /// <param name="peers">The peers that answered HashKV at <paramref name="first"/>'s revision.</param>
    public static CorruptionVerdict Judge(ulong leaderId, int members, MemberHash first, MemberHash second, IReadOnlyList<MemberHash> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var corrupted = new List<CorruptMember>();
        void Name(ulong id, string reason)
        {
            if (!corrupted.Any(c => c.MemberId == id))
            {
                corrupted.Add(new CorruptMember(id, reason));
            }
        }

        if (second.Hash != first.Hash && second.Revision == first.Revision && second.CompactRevision == first.CompactRevision)
        {
            Name(leaderId, Invariant($"the leader's own hash at revision {first.Revision} changed from {first.Hash} to {second.Hash} with no write in between"));
        }

        var comparable = new List<MemberHash>();
        foreach (var peer in peers)
        {
            if (peer.Revision > second.Revision)
            {
                Name(peer.MemberId, Invariant($"its revision {peer.Revision} is above the leader's {second.Revision}"));
            }
            else if (peer.CompactRevision > second.CompactRevision)
            {
                Name(peer.MemberId, Invariant($"its compact revision {peer.CompactRevision} is above the leader's {second.CompactRevision}"));
            }
            else if (peer.CompactRevision == first.CompactRevision)
            {
                comparable.Add(peer);
            }
        }

        var differing = comparable.Where(p => p.Hash != first.Hash).ToList();
        if (differing.Count > 0)
        {
            var hashes = comparable.Select(p => (p.MemberId, p.Hash)).Prepend((leaderId, first.Hash)).ToList();
            var majority = hashes.GroupBy(h => h.Hash).FirstOrDefault(g => g.Count() >= (members / 2) + 1);
            if (majority is not null)
            {
                foreach (var (id, hash) in hashes.Where(h => h.Hash != majority.Key))
                {
                    Name(id, Invariant($"its hash {hash} at revision {first.Revision} differs from the majority's {majority.Key}"));
                }
            }
            else
            {
                foreach (var peer in differing)
                {
                    Name(peer.MemberId, Invariant($"its hash {peer.Hash} at revision {first.Revision} differs from the leader's {first.Hash} (no hash has a majority)"));
                }
            }
        }

        return new CorruptionVerdict(corrupted, comparable.Count);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
