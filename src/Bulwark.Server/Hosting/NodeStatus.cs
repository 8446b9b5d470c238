using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>A consistent picture of the node published by the loop after every Ready, for the API and operators.</summary>
public sealed record NodeStatus(
    ulong Id,
    ulong Leader,
    Role Role,
    ulong Term,
    ulong Commit,
    ulong Applied,
    ulong LastIndex,
    ulong SnapshotIndex)
{
    public bool IsLeader => Role == Role.Leader;

    /// <summary>This member's NOSPACE alarm is raised: a full disk holds back its writes (see <see cref="DiskSpaceAlarm"/>).</summary>
    public bool NoSpaceAlarm { get; init; }

    /// <summary>
    /// A replicated CORRUPT alarm is active (about this or another member): every member refuses writes with etcd's
    /// "etcdserver: corrupt cluster" until it is disarmed (see <see cref="ReplicatedAlarm"/>).
    /// </summary>
    public bool CorruptAlarm { get; init; }
}
