namespace Bulwark.Consensus;

/// <summary>
/// Deliberate protocol bugs, switched on only by tests, so the simulator can prove its checkers catch them.
/// Every switch is off by default; with all off the core behaves exactly as specified.
/// </summary>
internal sealed record RaftTestFaults
{
    public static readonly RaftTestFaults None = new();

    /// <summary>
    /// The leader commits an entry of an earlier term by counting replicas (the Figure 8 bug). So that the bug can
    /// show, a new leader also appends no no-op, and an Append carries entries of one term only (otherwise the new
    /// term's entries reach every follower together with the earlier-term ones and the faulty commit coincides
    /// with a correct one).
    /// </summary>
    public bool CommitPreviousTermEntriesByCount { get; init; }

    /// <summary>A node grants its vote without checking that the candidate's log is at least as up to date.</summary>
    public bool GrantVoteIgnoringLogFreshness { get; init; }

    /// <summary>Responses (acknowledgements, votes) go out before the state they promise is durable.</summary>
    public bool AcknowledgeBeforePersist { get; init; }

    /// <summary>The leader answers ReadIndex with its commit index at once, without confirming leadership.</summary>
    public bool ReadIndexWithoutQuorumCheck { get; init; }

    /// <summary>
    /// A new leader answers ReadIndex (after the quorum round) before an entry of its own term has committed, so it
    /// may hand out a commit index older than one the previous leader already acknowledged (skips §6.4's first step).
    /// </summary>
    public bool ReadIndexBeforeTermCommit { get; init; }

    public bool Any => CommitPreviousTermEntriesByCount || GrantVoteIgnoringLogFreshness || AcknowledgeBeforePersist ||
                       ReadIndexWithoutQuorumCheck || ReadIndexBeforeTermCommit;
}
