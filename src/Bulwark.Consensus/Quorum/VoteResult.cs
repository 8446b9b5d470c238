namespace Bulwark.Consensus.Quorum;

/// <summary>The outcome of tallying (pre-)votes against a voter set.</summary>
internal enum VoteResult : byte
{
    /// <summary>Neither a quorum of grants nor enough rejections to rule one out yet.</summary>
    Pending = 0,
    Won = 1,
    Lost = 2,
}
