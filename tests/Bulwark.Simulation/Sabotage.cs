namespace Bulwark.Simulation;

/// <summary>
/// Deliberate protocol bugs, to prove the checkers catch them. The first two switch on the production host's test
/// faults (<see cref="Bulwark.Server.Hosting.HostTestFaults"/>) in its handling of <see cref="Bulwark.Consensus.Ready"/>;
/// the third and the last break the sim's client API; the next two and the last two switch on the core's own test faults;
/// TxnIgnoresCompare breaks the translation of a compare-and-set into an etcd Txn; SnapshotCarriesFoundingMembership
/// breaks the sending side of a snapshot; ApplyWithoutPermissionCheck breaks the apply worker's auth check.
/// </summary>
[Flags]
public enum Sabotage
{
    None = 0,

    /// <summary>The host sends MessagesAfterPersist (acknowledgements, votes) before syncing the disk.</summary>
    AckBeforePersist = 1,

    /// <summary>The host persists hard state with the vote dropped, so a restarted node can vote twice in a term.</summary>
    VoteNotPersisted = 2,

    /// <summary>Reads are answered from the local store at once, without ReadIndex.</summary>
    ReadWithoutReadIndex = 4,

    /// <summary>The core commits earlier-term entries by counting replicas (the Figure 8 bug).</summary>
    CommitPreviousTermEntriesByCount = 8,

    /// <summary>The core grants votes without checking that the candidate's log is up to date.</summary>
    GrantVoteIgnoringLogFreshness = 16,

    /// <summary>A compare-and-set's Txn is sent without its compare, so every swap succeeds.</summary>
    TxnIgnoresCompare = 32,

    /// <summary>The core's leader answers ReadIndex at once with its commit index, without a quorum round.</summary>
    ReadIndexWithoutQuorumCheck = 64,

    /// <summary>The core's new leader answers ReadIndex before an entry of its term has committed.</summary>
    ReadIndexBeforeTermCommit = 128,

    /// <summary>A lease keep-alive is renewed by whoever believes it leads, without confirming leadership first.</summary>
    KeepAliveWithoutReadIndex = 256,

    /// <summary>A snapshot is sent with the founding membership in its metadata instead of the membership as of its
    /// index: a receiver installs a stale membership (the membership ledger's snapshot check must catch it).</summary>
    SnapshotCarriesFoundingMembership = 512,

    /// <summary>The apply worker drops each command's caller before applying it, so the state machine's permission
    /// check never runs (auth runs must see a write the user may not make take effect).</summary>
    ApplyWithoutPermissionCheck = 1024,
}
