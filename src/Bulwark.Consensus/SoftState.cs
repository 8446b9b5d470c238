namespace Bulwark.Consensus;

/// <summary>A node's role in its current term.</summary>
public enum Role : byte
{
    Follower = 0,
    PreCandidate = 1,
    Candidate = 2,
    Leader = 3,
    /// <summary>A non-voting member that receives the log.</summary>
    Learner = 4,
}

/// <summary>Volatile state the host shows to operators; not persisted. Leader 0 = unknown.</summary>
public readonly record struct SoftState(ulong Leader, Role Role, ulong Term);
