namespace Bulwark.Chaos.Faults;

/// <summary>The faults `bulwark chaos` can inject, each named on the command line as in <see cref="FaultKinds.Names"/>.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL the leader's process, restart it on the same data later.</summary>
    KillLeader,

    /// <summary>SIGKILL a follower's process, restart it later.</summary>
    KillFollower,

    /// <summary>SIGKILL any member (chosen by the seed), restart it later.</summary>
    KillRandom,

    /// <summary>SIGSTOP the leader's process, SIGCONT it later: alive, connections open, silent.</summary>
    PauseLeader,

    /// <summary>SIGSTOP a follower's process, SIGCONT it later.</summary>
    PauseFollower,

    /// <summary>Cut the leader off from every other member (both directions); clients still reach every member.</summary>
    PartitionLeader,

    /// <summary>Cut one member (chosen by the seed) off from the other two: the split 1/2.</summary>
    PartitionRandom,

    /// <summary>Drop only what the leader sends to its peers (one way); what they send still arrives.</summary>
    PartitionLeaderOneWay,

    /// <summary>Delay every fsync of the leader by 50 ms (fault point fsync-delay), undo it after the hold.</summary>
    SlowDiskLeader,

    /// <summary>Make a follower's fsyncs fail with EIO (fault point fsync-error): it fails stop; restarted after the hold.</summary>
    FsyncErrorFollower,

    /// <summary>Make the leader's fsyncs fail with EIO: it fails stop; restarted after the hold.</summary>
    FsyncErrorLeader,

    /// <summary>The leader's disk is full (fault point disk-full) for the hold.</summary>
    DiskFullLeader,

    /// <summary>The leader's clock jumps forward, and back by as much after the hold (fault point clock-jump).</summary>
    ClockJump,
}

public static class FaultKinds
{
    private static readonly Dictionary<string, FaultKind> ByName = new(StringComparer.Ordinal)
    {
        ["kill-leader"] = FaultKind.KillLeader,
        ["kill-follower"] = FaultKind.KillFollower,
        ["kill-random"] = FaultKind.KillRandom,
        ["pause-leader"] = FaultKind.PauseLeader,
        ["pause-follower"] = FaultKind.PauseFollower,
        ["partition-leader"] = FaultKind.PartitionLeader,
        ["partition-random"] = FaultKind.PartitionRandom,
        ["partition-leader-oneway"] = FaultKind.PartitionLeaderOneWay,
        ["slow-disk-leader"] = FaultKind.SlowDiskLeader,
        ["fsync-error-follower"] = FaultKind.FsyncErrorFollower,
        ["fsync-error-leader"] = FaultKind.FsyncErrorLeader,
        ["disk-full-leader"] = FaultKind.DiskFullLeader,
        ["clock-jump"] = FaultKind.ClockJump,
    };

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static string Name(this FaultKind kind) => ByName.First(kv => kv.Value == kind).Key;

    public static bool NeedsNetwork(this FaultKind kind) =>
        kind is FaultKind.PartitionLeader or FaultKind.PartitionRandom or FaultKind.PartitionLeaderOneWay;

    public static bool IsKill(this FaultKind kind) => kind is FaultKind.KillLeader or FaultKind.KillFollower or FaultKind.KillRandom;

    public static bool IsPause(this FaultKind kind) => kind is FaultKind.PauseLeader or FaultKind.PauseFollower;

    /// <summary>
    /// Faults that take their target out of the cluster for the hold: killed, paused, cut off, or failed stop. The
    /// other members' failure detectors must judge it down (the availability comparison counts a miss otherwise);
    /// a slow or full disk and a clock jump leave the member serving.
    /// </summary>
    public static bool TakesMemberOut(this FaultKind kind) =>
        kind.IsKill() || kind.IsPause() || kind.NeedsNetwork() || kind is FaultKind.FsyncErrorFollower or FaultKind.FsyncErrorLeader;

    /// <summary>Faults applied through a member's named fault points (`serve --unsafe-fault-injection`): Bulwark only.</summary>
    public static bool NeedsFaultPoints(this FaultKind kind) =>
        kind is FaultKind.SlowDiskLeader or FaultKind.FsyncErrorFollower or FaultKind.FsyncErrorLeader or FaultKind.DiskFullLeader or FaultKind.ClockJump;

    /// <summary>Parses "kill-leader,pause-leader,..." ("none" or empty = no faults); throws <see cref="ChaosInputException"/> naming what is unknown.</summary>
    public static IReadOnlyList<FaultKind> Parse(string? list)
    {
        if (string.IsNullOrWhiteSpace(list) || list.Trim() == "none")
        {
            return [];
        }

        var kinds = new List<FaultKind>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name == "all")
            {
                kinds.AddRange(ByName.Values);
                continue;
            }

            if (!ByName.TryGetValue(name, out var kind))
            {
                throw new ChaosInputException("--faults", $"unknown fault '{name}'; known: {string.Join(", ", ByName.Keys)}, all, none");
            }

            kinds.Add(kind);
        }

        return kinds.Distinct().ToList();
    }
}
