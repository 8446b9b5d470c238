using Bulwark.Consensus.Quorum;

namespace Bulwark.Consensus.Tracking;

/// <summary>
/// Tracks the current membership, the leader's per-member progress and the votes of an election.
/// Members are kept in id order so every iteration (and so every run of the simulator) is deterministic.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly Dictionary<ulong, Progress> byId = [];
    private readonly List<Progress> members = [];
    private readonly Dictionary<ulong, bool> votes = [];
    private readonly int maxInflight;

    public ProgressTracker(ClusterConfig config, int maxInflight)
    {
        Config = config;
        this.maxInflight = maxInflight;
    }

    public ClusterConfig Config { get; private set; }

    /// <summary>Every member (voters and learners, including this node) in id order.</summary>
    public IReadOnlyList<Progress> Members => members;

    public Progress? Get(ulong id) => byId.GetValueOrDefault(id);

    /// <summary>
    /// Switches to <paramref name="config"/>, keeping the progress of members that stay. Members of
    /// <paramref name="departing"/> (the last committed configuration) that <paramref name="config"/> drops keep
    /// receiving the log, as non-voters, until the change commits: so a removed node learns of its removal and
    /// does not campaign with a stale configuration.
    /// </summary>
    public void SetConfig(ClusterConfig config, ClusterConfig departing, ulong lastIndex)
    {
        Config = config;
        for (var i = members.Count - 1; i >= 0; i--)
        {
            var member = members[i];
            if (!IsMember(config, member.Id) && !IsMember(departing, member.Id))
            {
                members.RemoveAt(i);
                byId.Remove(member.Id);
            }
            else
            {
                member.IsLearner = !config.IsVoter(member.Id);
            }
        }

        AddMissing(config.Voters, false, lastIndex);
        AddMissing(config.OutgoingVoters, false, lastIndex);
        AddMissing(config.Learners, true, lastIndex);
    }

    /// <summary>A new leader knows nothing about its followers: probe everyone from just past its last index.</summary>
    public void ResetAll(ClusterConfig departing, ulong lastIndex)
    {
        members.Clear();
        byId.Clear();
        SetConfig(Config, departing, lastIndex);
        AddMissing(departing.Voters, true, lastIndex);
        AddMissing(departing.Learners, true, lastIndex);
        foreach (var member in members)
        {
            member.RecentActive = false;
        }
    }

    private static bool IsMember(ClusterConfig config, ulong id) => config.IsVoter(id) || config.Learners.Contains(id);

    /// <summary>The highest index replicated on a majority of voters (this node counts with <paramref name="selfMatch"/>).</summary>
    public ulong CommittedIndex(ulong selfId, ulong selfMatch) => QuorumValue(selfId, selfMatch, static p => p.Match);

    /// <summary>The highest ReadIndex sequence number acknowledged by a majority of voters.</summary>
    public ulong QuorumReadAck(ulong selfId, ulong selfAck) => QuorumValue(selfId, selfAck, static p => p.ReadAck);

    /// <summary>
    /// The largest value a majority of voters reached, one value per voter read by <paramref name="valueOf"/>;
    /// this node counts with <paramref name="selfValue"/> (what it has made durable, or the read round it is on,
    /// not its progress entry), a voter without progress with 0.
    /// </summary>
    private ulong QuorumValue(ulong selfId, ulong selfValue, Func<Progress, ulong> valueOf)
    {
        var voters = Config.Voters;
        Span<ulong> values = voters.Count <= 64 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        var i = 0;
        foreach (var id in voters)
        {
            values[i++] = id == selfId ? selfValue : byId.TryGetValue(id, out var p) ? valueOf(p) : 0;
        }

        return MajorityConfig.QuorumValue(values);
    }

    /// <summary>True when a majority of voters (this node counts as active) was heard from recently.</summary>
    public bool QuorumActive(ulong selfId)
    {
        var active = 0;
        foreach (var id in Config.Voters)
        {
            if (id == selfId || (byId.TryGetValue(id, out var p) && p.RecentActive))
            {
                active++;
            }
        }

        return active >= MajorityConfig.QuorumSize(Config.Voters.Count);
    }

    public void ResetVotes() => votes.Clear();

    public void RecordVote(ulong id, bool granted) => votes.TryAdd(id, granted);

    public VoteResult TallyVotes()
    {
        int granted = 0, rejected = 0;
        foreach (var id in Config.Voters)
        {
            if (votes.TryGetValue(id, out var g))
            {
                if (g)
                {
                    granted++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        return MajorityConfig.Tally(Config.Voters.Count, granted, rejected);
    }

    private void AddMissing(IEnumerable<ulong> ids, bool learner, ulong lastIndex)
    {
        foreach (var id in ids)
        {
            if (byId.ContainsKey(id))
            {
                continue;
            }

            // A member added while we lead counts as active so check-quorum does not depose us before it answers.
            var progress = new Progress(id, lastIndex + 1, maxInflight, learner) { RecentActive = true };
            byId.Add(id, progress);
            var at = members.Count;
            while (at > 0 && members[at - 1].Id > id)
            {
                at--;
            }

            members.Insert(at, progress);
        }
    }
}
