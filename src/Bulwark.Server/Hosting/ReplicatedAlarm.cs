using Bulwark.Api.Etcdserverpb;

namespace Bulwark.Server.Hosting;

/// <summary>
/// An alarm raised through the Raft log (CORRUPT), so every member holds it, as applied by this member. Unlike NOSPACE,
/// which is this member's own (<see cref="DiskSpaceAlarm"/>), it names the member it is about, which may be another.
/// </summary>
public readonly record struct ReplicatedAlarm(ulong MemberId, AlarmType Alarm)
{
    /// <summary>The CORRUPT alarm's name on every surface (etcd's AlarmType name, /health's "ALARM CORRUPT").</summary>
    public const string CorruptName = "CORRUPT";

    /// <summary>etcd's AlarmType name (NOSPACE, CORRUPT).</summary>
    public string Name => Alarm.ToString().ToUpperInvariant();
}
