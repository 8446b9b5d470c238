using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>Every kind of message Raft nodes exchange.</summary>
public enum MessageType : byte
{
    PreVote = 0,
    PreVoteResponse = 1,
    Vote = 2,
    VoteResponse = 3,
    /// <summary>AppendEntries: Index/LogTerm name the entry before <see cref="Message.Entries"/>.</summary>
    Append = 4,
    /// <summary>Index = the follower's last matching index on success; on reject, RejectHint/LogTerm guide back-off.</summary>
    AppendResponse = 5,
    Heartbeat = 6,
    HeartbeatResponse = 7,
    /// <summary>InstallSnapshot: <see cref="Message.Snapshot"/> is set.</summary>
    Snapshot = 8,
    /// <summary>Leadership transfer: the receiver starts an election at once, skipping pre-vote.</summary>
    TimeoutNow = 9,
    /// <summary>A follower forwards a ReadIndex request (Context) to the leader.</summary>
    ReadIndex = 10,
    /// <summary>The leader answers a forwarded ReadIndex: Index = the read index, Context echoed.</summary>
    ReadIndexResponse = 11,
    /// <summary>A follower forwards a client proposal (Entries) to the leader.</summary>
    Propose = 12,
    /// <summary>
    /// A voting follower tells the other voters that the leader of <see cref="Message.Term"/> (its id in
    /// <see cref="Message.Context"/>, 8 bytes little-endian) keeps sending but has not moved the commit index past
    /// <see cref="Message.Index"/> while work is pending ("Gray failures" part 3 in docs/consensus.md). Changes no
    /// term; a report of any other term than the receiver's is dropped.
    /// </summary>
    NoProgressReport = 13,
}

/// <summary>
/// A message between nodes. One shape for all types (as in etcd's raftpb.Message) so the transport has one codec.
/// Fields a type does not use are left at their defaults.
/// </summary>
public sealed record Message
{
    public required MessageType Type { get; init; }
    public required ulong From { get; init; }
    public required ulong To { get; init; }
    public ulong Term { get; init; }

    /// <summary>Append: term of the entry at <see cref="Index"/>. Vote/PreVote: term of the candidate's last entry.
    /// Rejected AppendResponse: term of the follower's entry at <see cref="RejectHint"/>.</summary>
    public ulong LogTerm { get; init; }

    /// <summary>Append: index of the entry before Entries. Vote: candidate's last index. AppendResponse: see type.</summary>
    public ulong Index { get; init; }

    public ImmutableArray<Entry> Entries { get; init; } = ImmutableArray<Entry>.Empty;

    /// <summary>The sender's commit index (Append, Heartbeat).</summary>
    public ulong Commit { get; init; }

    public bool Reject { get; init; }

    /// <summary>On a rejected AppendResponse: the highest index at which the follower may still match.</summary>
    public ulong RejectHint { get; init; }

    public Snapshot? Snapshot { get; init; }

    /// <summary>Opaque: ReadIndex request context, or a campaign marker for leadership transfer votes.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} idx={Index} lt={LogTerm} n={Entries.Length} c={Commit}" +
        (Reject ? $" reject hint={RejectHint}" : "") + (Snapshot is null ? "" : $" snap={Snapshot.Metadata.Index}@{Snapshot.Metadata.Term}");
}
