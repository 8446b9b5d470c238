namespace Bulwark.Consensus.Quorum;

/// <summary>
/// Quorum arithmetic for one majority voter set. Kept free of Raft state so the rules that decide commits,
/// elections and read confirmations live in one small, separately tested place.
/// </summary>
internal static class MajorityConfig
{
    /// <summary>Size of a majority of <paramref name="voters"/> voters.</summary>
    public static int QuorumSize(int voters) => (voters / 2) + 1;

    /// <summary>
    /// The largest value that a majority of voters have reached, given one acknowledged value per voter
    /// (match indexes for commits, acknowledged read sequence numbers for ReadIndex). The span is sorted in place.
    /// An empty voter set acknowledges nothing (0): a cluster with no voters can never commit.
    /// </summary>
    public static ulong QuorumValue(Span<ulong> acknowledged)
    {
        var n = acknowledged.Length;
        if (n == 0)
        {
            return 0;
        }

        acknowledged.Sort();
        // Ascending order: the quorum-th largest value sits at n - quorum.
        return acknowledged[n - QuorumSize(n)];
    }

    /// <summary>Decides an election from counts over the voter set.</summary>
    public static VoteResult Tally(int voters, int granted, int rejected)
    {
        if (voters == 0)
        {
            return VoteResult.Lost;
        }

        var quorum = QuorumSize(voters);
        if (granted >= quorum)
        {
            return VoteResult.Won;
        }

        var missing = voters - granted - rejected;
        return granted + missing >= quorum ? VoteResult.Pending : VoteResult.Lost;
    }
}
