using System.Globalization;
using Bulwark.Chaos.Cluster;

namespace Bulwark.Chaos.Faults;

/// <summary>
/// Applies planned faults to a <see cref="ChaosCluster"/> and checks that each one really took effect:
/// a kill leaves no process behind and the member comes back (a killed leader is replaced in a higher term); a pause
/// leaves the process stopped and silent (a paused leader is replaced); a partition keeps the majority side working
/// without the cut-off member (a cut-off leader is replaced; a cut-off follower falls behind).
/// </summary>
public sealed partial class FaultInjector(ChaosCluster cluster, Func<double> now, TextWriter progress, MemberAdmin? admin = null)
{
    /// <summary>How much longer than planned a pause or partition is held while waiting for its effect.</summary>
    private static readonly TimeSpan EffectGrace = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan RecoveryPatience = TimeSpan.FromSeconds(60);

    /// <summary>A cut-off follower counts as cut off once the majority has applied this many entries it has not.</summary>
    private const long FallenBehind = 20;

    public async Task<FaultRecord> ApplyAsync(PlannedFault fault, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var before = await cluster.WaitForLeaderAsync(RecoveryPatience, cancel).ConfigureAwait(false);
        var target = Target(fault, before.Index);
        var evidence = new List<string>();
        var start = now();
        progress.WriteLine($"[{Seconds(start)}] fault {fault.Index}: {fault.Kind.Name()} on {cluster.Members[target].Name} (leader {cluster.Members[before.Index].Name}, term {before.Term}), held {fault.Hold.TotalMilliseconds:0} ms");
        bool observed;
        double end;
        if (fault.Kind.IsKill())
        {
            (observed, end) = await KillAsync(target, target == before.Index, before.Term, fault.Hold, evidence, cancel).ConfigureAwait(false);
        }
        else if (fault.Kind.NeedsFaultPoints())
        {
            (observed, end) = await FaultPointAsync(fault.Kind, target, target == before.Index, before.Term, fault.Hold, evidence, cancel).ConfigureAwait(false);
        }
        else if (fault.Kind.IsPause())
        {
            (observed, end) = await PauseAsync(target, target == before.Index, before.Term, fault.Hold, evidence, cancel).ConfigureAwait(false);
        }
        else
        {
            (observed, end) = await PartitionAsync(fault.Kind, target, target == before.Index, before.Term, fault.Hold, evidence, cancel).ConfigureAwait(false);
        }

        var recovered = await RecoverAsync(cancel).ConfigureAwait(false);
        double? recoveredAt = recovered ? now() : null;
        if (!recovered)
        {
            evidence.Add($"the members did not all answer, agree on a leader and catch up within {RecoveryPatience.TotalSeconds:0} s after the fault was undone");
        }

        if ((fault.Kind.IsKill() || fault.Kind is FaultKind.FsyncErrorLeader) && recovered)
        {
            var after = await cluster.AgreedLeaderAsync(cancel: cancel).ConfigureAwait(false);
            if (target == before.Index)
            {
                var newTerm = after is { } a && a.Term > before.Term;
                var what = fault.Kind.IsKill() ? "kill" : "fail-stop";
                evidence.Add(newTerm ? $"term {before.Term} -> {after!.Value.Term} after the leader's {what}" : $"term did not change after the leader's {what} (still {after?.Term})");
                observed &= newTerm;
            }
        }

        progress.WriteLine($"[{Seconds(now())}]   {(observed ? "observed" : "NOT OBSERVED")}: {string.Join("; ", evidence)}");
        return new FaultRecord(fault.Index, fault.Kind.Name(), cluster.Members[target].Name, start, end, recoveredAt, observed && recovered, evidence);
    }

    /// <summary>
    /// Waits until every member runs, answers and names the same leader, and has applied what the leader had applied
    /// when they first agreed — so that the next fault does not land on a member still catching up (which would make
    /// it a double fault). A slow catch-up shows in the report's "recovered" column.
    /// </summary>
    private async Task<bool> RecoverAsync(CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + RecoveryPatience;
        var agreed = await Poll.UntilAsync(
            async () => Enumerable.Range(0, cluster.Size).All(cluster.IsRunning) && await cluster.AgreedLeaderAsync(cancel: cancel).ConfigureAwait(false) is { } l
                ? await cluster.TryStatusAsync(l.Index, cancel).ConfigureAwait(false)
                : null,
            RecoveryPatience,
            cancel).ConfigureAwait(false);
        if (agreed is null)
        {
            return false;
        }

        return await Poll.UntilTrueAsync(
            async () => (await cluster.StatusesAsync(cancel).ConfigureAwait(false)) is { } all && all.Count == cluster.Size && all.All(s => s.Applied >= agreed.Applied),
            Remaining(deadline),
            cancel).ConfigureAwait(false);
    }

    private int Target(PlannedFault fault, int leader)
    {
        var followers = Enumerable.Range(0, cluster.Size).Where(i => i != leader).ToList();
        return fault.Kind switch
        {
            FaultKind.KillLeader or FaultKind.PauseLeader or FaultKind.PartitionLeader or FaultKind.PartitionLeaderOneWay => leader,
            FaultKind.SlowDiskLeader or FaultKind.FsyncErrorLeader or FaultKind.DiskFullLeader or FaultKind.ClockJump => leader,
            FaultKind.KillFollower or FaultKind.PauseFollower or FaultKind.FsyncErrorFollower => followers[fault.Draw % followers.Count],
            _ => fault.Draw % cluster.Size,
        };
    }

    private async Task<(bool Observed, double End)> KillAsync(int target, bool isLeader, ulong term, TimeSpan hold, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        var holdUntil = DateTime.UtcNow + hold;
        var pid = await cluster.KillAsync(target).ConfigureAwait(false);
        var gone = Signals.State(pid) is null;
        evidence.Add(gone ? $"pid {pid} gone" : $"pid {pid} still exists after SIGKILL");
        var observed = gone;
        if (isLeader)
        {
            var replaced = await WaitForNewLeaderAsync(Others(target), term, holdUntil, cancel).ConfigureAwait(false);
            evidence.Add(replaced is { } r ? $"{cluster.Members[r.Index].Name} leads in term {r.Term} at +{Seconds(now())}" : "no new leader during the kill");
        }

        await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
        cluster.Start(target);
        var end = now();
        var back = await Poll.UntilTrueAsync(async () => await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false) is not null, RecoveryPatience, cancel).ConfigureAwait(false);
        evidence.Add(back ? $"{name} restarted (pid {cluster.Pid(target)}) and answers again" : $"{name} restarted but does not answer");
        return (observed && back, end);
    }

    private async Task<(bool Observed, double End)> PauseAsync(int target, bool isLeader, ulong term, TimeSpan hold, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        var holdUntil = DateTime.UtcNow + hold;
        var pid = cluster.Pause(target);
        try
        {
            // The signal is delivered asynchronously: the state turns T once the kernel has stopped every thread.
            var stopped = await Poll.UntilTrueAsync(() => Task.FromResult(Signals.State(pid) == 'T'), TimeSpan.FromSeconds(2), cancel).ConfigureAwait(false);
            var silent = await Poll.UntilTrueAsync(async () => await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false) is null, hold + EffectGrace, cancel).ConfigureAwait(false);
            evidence.Add($"pid {pid} state {(stopped ? "T (stopped)" : Signals.State(pid)?.ToString() ?? "gone")}");
            evidence.Add(silent ? $"{name} does not answer Status" : $"{name} still answers Status while paused");
            var observed = stopped && silent;
            if (isLeader)
            {
                var replaced = await WaitForNewLeaderAsync(Others(target), term, holdUntil + EffectGrace, cancel).ConfigureAwait(false);
                evidence.Add(replaced is { } r ? $"{cluster.Members[r.Index].Name} leads in term {r.Term} at +{Seconds(now())}" : "no new leader while the leader was paused");
                observed &= replaced is not null;
            }

            await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
            return (observed, now());
        }
        finally
        {
            cluster.Resume(target);
        }
    }

    private async Task<(bool Observed, double End)> PartitionAsync(FaultKind kind, int target, bool isLeader, ulong term, TimeSpan hold, List<string> evidence, CancellationToken cancel)
    {
        var lab = cluster.Lab ?? throw new InvalidOperationException("partition faults need the network namespaces");
        var name = cluster.Members[target].Name;
        var holdUntil = DateTime.UtcNow + hold;
        var others = Others(target);
        var isolatedBefore = (await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false))?.Applied;
        try
        {
            foreach (var other in others)
            {
                lab.Cut(target, other);
                if (kind != FaultKind.PartitionLeaderOneWay)
                {
                    lab.Cut(other, target);
                }
            }

            evidence.Add(kind == FaultKind.PartitionLeaderOneWay
                ? $"{name}'s packets to {string.Join(",", others.Select(o => cluster.Members[o].Name))} dropped (one way)"
                : $"{name} cut off from {string.Join(",", others.Select(o => cluster.Members[o].Name))} (both ways)");
            bool observed;
            if (isLeader)
            {
                var replaced = await WaitForNewLeaderAsync(others, term, holdUntil + EffectGrace, cancel).ConfigureAwait(false);
                evidence.Add(replaced is { } r ? $"majority side: {cluster.Members[r.Index].Name} leads in term {r.Term} at +{Seconds(now())}" : "the majority side elected no new leader");
                observed = replaced is not null;
            }
            else
            {
                // A cut-off follower changes nothing visible on the majority side; it shows by falling behind.
                var behind = await Poll.UntilAsync(
                    async () =>
                    {
                        var isolated = await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false);
                        var majority = (await cluster.StatusesAsync(cancel).ConfigureAwait(false)).Where(s => s.Member != target && s.IsLeader).ToList();
                        return isolated is not null && majority.Count == 1 && majority[0].Applied >= isolated.Applied + FallenBehind
                            ? $"{name} stuck at applied {isolated.Applied} (was {isolatedBefore}) while leader {cluster.Members[majority[0].Member].Name} applied {majority[0].Applied}"
                            : null;
                    },
                    hold + EffectGrace,
                    cancel).ConfigureAwait(false);
                evidence.Add(behind ?? $"{name} did not fall behind the majority");
                observed = behind is not null;
            }

            if (isLeader && await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false) is { } old)
            {
                evidence.Add(old.IsLeader ? $"{name} still believes it leads (term {old.Term})" : $"{name} stepped down (term {old.Term}, knows leader {old.Leader:x})");
            }

            await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
            return (observed, now());
        }
        finally
        {
            lab.HealAll();
        }
    }

    private Task<LeaderSeen?> WaitForNewLeaderAsync(IReadOnlyCollection<int> among, ulong term, DateTime until, CancellationToken cancel) =>
        Poll.UntilAsync(
            async () => await cluster.AgreedLeaderAsync(among, cancel).ConfigureAwait(false) is { } l && l.Term > term ? new LeaderSeen(l.Index, l.Term) : null,
            Remaining(until),
            cancel);

    private sealed record LeaderSeen(int Index, ulong Term);

    private List<int> Others(int target) => Enumerable.Range(0, cluster.Size).Where(i => i != target).ToList();

    private static TimeSpan Remaining(DateTime until) => until > DateTime.UtcNow ? until - DateTime.UtcNow : TimeSpan.Zero;

    private static async Task WaitUntil(DateTime until, CancellationToken cancel)
    {
        if (Remaining(until) is { } left && left > TimeSpan.Zero)
        {
            await Task.Delay(left, cancel).ConfigureAwait(false);
        }
    }

    private static string Seconds(double ms) => (ms / 1000).ToString("0.000", CultureInfo.InvariantCulture) + "s";
}
