using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>What the node loop reads from its input channel (peer messages come from the transport's own queue).</summary>
internal abstract record HostInput
{
    public sealed record Tick : HostInput
    {
        public static readonly Tick Instance = new();
    }

    public sealed record Propose(ulong RequestId, byte[] Data) : HostInput;

    public sealed record ReadIndex(ulong ReadId) : HostInput;

    public sealed record PeerUnreachable(ulong PeerId) : HostInput;

    public sealed record SnapshotFailed(ulong PeerId) : HostInput;

    /// <summary>The transport wrote the whole snapshot to the peer.</summary>
    public sealed record SnapshotSent(ulong PeerId) : HostInput;

    /// <summary>The connection to the peer closed or was refused (its process likely died).</summary>
    public sealed record PeerConnectionLost(ulong PeerId) : HostInput;

    /// <summary>A client request this member forwarded to its leader was dropped unsent by the transport.</summary>
    public sealed record RequestUndelivered(Message Message) : HostInput;

    public sealed record Campaign : HostInput;

    /// <summary>A membership change (etcd's MemberAdd/Remove/Update/Promote), checked and proposed by the leader;
    /// <paramref name="Connected"/> reads which peers the transport holds a live connection to.</summary>
    public sealed record ChangeMembership(ulong ChangeId, MembershipRequest Request, Func<IReadOnlySet<ulong>> Connected) : HostInput;

    /// <summary>This leader hands leadership to its most caught-up connected voter (before removing itself); the target
    /// (0: none) completes <paramref name="Target"/>.</summary>
    public sealed record HandOverLeadership(TaskCompletionSource<ulong> Target, Func<IReadOnlySet<ulong>> Connected) : HostInput;

    /// <summary>Hand leadership to the member (Maintenance.MoveLeader); ignored unless this member leads.</summary>
    public sealed record TransferLeadership(ulong Target) : HostInput;

    /// <summary>Retry the writes a full disk held back (the NOSPACE backoff timer, or an operator disarming the alarm).</summary>
    public sealed record RetryWrites : HostInput
    {
        public static readonly RetryWrites Instance = new();
    }

    /// <summary>Maintenance.Defragment, first step: have the apply worker write a snapshot at its applied index now.</summary>
    public sealed record SnapshotNow(TaskCompletionSource<SnapshotMetadata> Written) : HostInput;

    /// <summary>Maintenance.Defragment, second step: compact to that snapshot and delete the older snapshot files.</summary>
    public sealed record CompactToSnapshot(SnapshotMetadata Snapshot, TaskCompletionSource<int> Deleted) : HostInput;

    /// <summary>The apply worker or a snapshot send has something for the loop (handled by the next ProcessReadies).</summary>
    public sealed record Wake : HostInput
    {
        public static readonly Wake Instance = new();
    }
}
