namespace Bulwark.Client.Calls;

/// <summary>When a failed call may be sent again (possibly to another member).</summary>
internal enum CallRetry
{
    /// <summary>
    /// After any transient failure: the call has no effect (reads, Status, MemberList, LeaseTimeToLive), repeating it
    /// has the same effect as doing it once (LeaseKeepAlive, LeaseRevoke), or its only effect is guarded by a Txn
    /// compare that the repeat re-checks and whose else-branch reads the outcome (the lock and election
    /// create-if-absent transactions).
    /// </summary>
    Always,

    /// <summary>
    /// Only when the failure proves the request never took effect (connection refused or not established, or a Bulwark
    /// member's refusal before proposing, <see cref="CallFailures.ProvesNotApplied"/>):
    /// every other write, whose repeat could apply it twice (a Put, a Delete, a user's Txn, LeaseGrant).
    /// </summary>
    WhenNotApplied,
}

/// <summary>Which member a call goes to first.</summary>
internal enum CallRoute
{
    /// <summary>The leader (writes and linearizable reads), then any other member (they forward).</summary>
    Leader,

    /// <summary>The member this client last used successfully (serializable reads), then any other.</summary>
    Any,
}
