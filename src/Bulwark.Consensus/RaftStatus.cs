using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>How the leader is replicating to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>Unknown match: one Append at a time until the follower's log position is found.</summary>
    Probe = 0,
    /// <summary>Known match: Appends are pipelined up to the in-flight limit.</summary>
    Replicate = 1,
    /// <summary>The follower needs a snapshot; nothing else is sent until it reports back.</summary>
    Snapshot = 2,
}

/// <summary>The leader's view of one follower (for status pages and tests).</summary>
public readonly record struct FollowerProgress(ulong Id, ulong Match, ulong Next, ProgressState State, bool RecentActive, bool IsLearner);

/// <summary>A read-only picture of a node for operators and tests.</summary>
public sealed record RaftStatus(
    ulong Id,
    SoftState SoftState,
    HardState HardState,
    ulong FirstIndex,
    ulong LastIndex,
    ulong Applied,
    ClusterConfig Config,
    ulong LeadTransferee,
    ImmutableArray<FollowerProgress> Progress);
