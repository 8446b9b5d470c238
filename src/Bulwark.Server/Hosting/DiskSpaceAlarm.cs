using Bulwark.Server.Observability;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// This member's NOSPACE alarm (etcd's AlarmType.NOSPACE). It is raised while any durable write is held back by a
/// full disk: the Raft loop holding a Ready it could not persist (<see cref="DiskSpaceUse.Log"/>), or the apply worker
/// unable to write a snapshot (<see cref="DiskSpaceUse.Snapshot"/>); it clears by itself once every held write went
/// through. While it is raised the member refuses client writes before proposing them. Thread-safe: the surface of
/// <see cref="DiskFullPolicy"/> that the apply worker, request threads and status readers use.
/// </summary>
public sealed class DiskSpaceAlarm
{
    /// <summary>The alarm's name on every surface (etcd's AlarmType name).</summary>
    public const string Name = "NOSPACE";

    private readonly Lock gate = new();
    private readonly ulong nodeId;
    private readonly ILogger logger;
    private readonly INodeObserver? observer;
    private DiskSpaceUse blocked;

    public DiskSpaceAlarm(ulong nodeId, ILogger logger, INodeObserver? observer)
    {
        this.nodeId = nodeId;
        this.logger = logger;
        this.observer = observer;
    }

    /// <summary>True while some write of this member is held back by a full disk.</summary>
    public bool Active => Current != DiskSpaceUse.None;

    /// <summary>True while the Raft loop holds a Ready it could not persist (the core is paused).</summary>
    public bool LogBlocked => (Current & DiskSpaceUse.Log) != 0;

    /// <summary>True while a snapshot could not be written (retried by the loop's timer).</summary>
    public bool SnapshotBlocked => (Current & DiskSpaceUse.Snapshot) != 0;

    private DiskSpaceUse Current
    {
        get
        {
            lock (gate)
            {
                return blocked;
            }
        }
    }

    /// <summary>Marks <paramref name="use"/> blocked by a full disk; raises the alarm if it was clear.</summary>
    public void Block(DiskSpaceUse use, string why) => Change(use, on: true, why);

    /// <summary>Marks <paramref name="use"/> writing again; clears the alarm when nothing else is blocked.</summary>
    public void Unblock(DiskSpaceUse use) => Change(use, on: false, "");

    private void Change(DiskSpaceUse use, bool on, string why)
    {
        // Reported under the lock so the journal's raised/cleared records keep the order of the changes.
        lock (gate)
        {
            var before = blocked;
            blocked = on ? before | use : before & ~use;
            if (before == DiskSpaceUse.None && blocked != DiskSpaceUse.None)
            {
                HostLog.NoSpaceRaised(logger, nodeId, why);
                observer?.Alarm(Name, raised: true);
            }
            else if (before != DiskSpaceUse.None && blocked == DiskSpaceUse.None)
            {
                HostLog.NoSpaceCleared(logger, nodeId);
                observer?.Alarm(Name, raised: false);
            }
        }
    }
}

/// <summary>What kind of durable write a full disk is holding back.</summary>
[Flags]
public enum DiskSpaceUse
{
    None = 0,

    /// <summary>The write-ahead log (a Ready's entries and hard state, an installed snapshot, a log release).</summary>
    Log = 1,

    /// <summary>A snapshot the apply worker writes every SnapshotThreshold entries.</summary>
    Snapshot = 2,
}
