namespace Bulwark.Consensus;

/// <summary>Why a proposal or read request was or was not taken.</summary>
public enum ProposeStatus : byte
{
    /// <summary>Appended to the leader's log at <see cref="ProposeResult.Index"/> in <see cref="ProposeResult.Term"/>.</summary>
    Accepted = 0,
    /// <summary>This node is a follower and forwarded the request to the leader it knows.</summary>
    Forwarded = 1,
    /// <summary>No leader is known; the caller should retry later (etcd: "etcdserver: no leader").</summary>
    NoLeader = 2,
    /// <summary>A leadership transfer is under way; proposals are refused until it ends.</summary>
    TransferInProgress = 3,
    /// <summary>Another membership change is not yet committed (or the leader has not committed an entry of its term).</summary>
    ConfigChangeInProgress = 4,
    /// <summary>The leader's uncommitted log would exceed <see cref="RaftConfig.MaxUncommittedBytes"/>.</summary>
    TooManyUncommitted = 5,
    /// <summary>The change makes no sense for the current membership (e.g. removing a non-member).</summary>
    InvalidConfigChange = 6,
}

/// <summary>The answer to Propose / ProposeConfigChange / ReadIndex.</summary>
public readonly record struct ProposeResult(ProposeStatus Status, ulong Index = 0, ulong Term = 0, ulong Leader = 0)
{
    public bool IsAccepted => Status is ProposeStatus.Accepted or ProposeStatus.Forwarded;
}
