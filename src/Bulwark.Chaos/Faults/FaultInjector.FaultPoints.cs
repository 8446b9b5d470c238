using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Chaos.Cluster;
using Grpc.Core;

namespace Bulwark.Chaos.Faults;

/// <summary>
/// The faults applied through a Bulwark member's named fault points (`serve --unsafe-fault-injection`, POST
/// /debug/faults), each with its effect observed in the member itself: its fsync latency metric, its exit code, its
/// answer to a write that needs new space, its clock offset.
/// </summary>
public sealed partial class FaultInjector
{
    /// <summary>The slow disk's added fsync latency (issue 15's gray-failure measure).</summary>
    public const int SlowDiskMs = 50;

    /// <summary>How far the clock-jump fault moves the leader's clock (forward, then back by as much).</summary>
    public const int ClockJumpMs = 2000;

    /// <summary>The exit code of `bulwark serve` after a fail-stop (ServeCommand.ExitFailStop).</summary>
    private const int ExitFailStop = 70;

    private async Task<(bool Observed, double End)> FaultPointAsync(FaultKind kind, int target, bool isLeader, ulong term, TimeSpan hold, List<string> evidence, CancellationToken cancel)
    {
        var points = admin ?? throw new InvalidOperationException("fault-point faults need the members' admin listeners");
        var holdUntil = DateTime.UtcNow + hold;
        return kind switch
        {
            FaultKind.SlowDiskLeader => await SlowDiskAsync(points, target, holdUntil, evidence, cancel).ConfigureAwait(false),
            FaultKind.FsyncErrorLeader or FaultKind.FsyncErrorFollower => await FsyncErrorAsync(points, target, isLeader, term, holdUntil, evidence, cancel).ConfigureAwait(false),
            FaultKind.DiskFullLeader => await DiskFullAsync(points, target, holdUntil, evidence, cancel).ConfigureAwait(false),
            _ => await ClockJumpAsync(points, target, holdUntil, evidence, cancel).ConfigureAwait(false),
        };
    }

    private async Task<(bool, double)> SlowDiskAsync(MemberAdmin points, int target, DateTime holdUntil, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        var before = await points.FsyncTotalsAsync(target, cancel).ConfigureAwait(false);
        var answer = await points.SetFaultAsync(target, $$"""{"point":"fsync-delay","delayMs":{{SlowDiskMs}},"enabled":true}""", cancel).ConfigureAwait(false);
        var active = answer["active"]!.AsArray().Any(p => (string?)p!["point"] == "fsync-delay" && (long?)p["delayMs"] == SlowDiskMs);
        try
        {
            await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
        }
        finally
        {
            await points.SetFaultAsync(target, """{"point":"fsync-delay","enabled":false}""", CancellationToken.None).ConfigureAwait(false);
        }

        var end = now();
        var after = await points.FsyncTotalsAsync(target, cancel).ConfigureAwait(false);
        var syncs = after.Count - before.Count;
        var meanMs = syncs > 0 ? (after.Sum - before.Sum) / syncs * 1000 : 0;
        var baselineMs = before.Count > 0 ? before.Sum / before.Count * 1000 : 0;
        evidence.Add(string.Create(CultureInfo.InvariantCulture,
            $"fsync-delay {SlowDiskMs} ms on {name}: {syncs} WAL fsyncs during the hold averaged {meanMs:0.0} ms (before: {baselineMs:0.0} ms over {before.Count})"));
        if (await cluster.AgreedLeaderAsync(cancel: cancel).ConfigureAwait(false) is { } leader)
        {
            evidence.Add(leader.Index == target ? $"{name} still leads (term {leader.Term})" : $"leadership moved to {cluster.Members[leader.Index].Name} (term {leader.Term})");
        }

        // The metric also counts persists that needed no new fsync (the WAL had nothing unsynced), so its mean sits
        // under the delay: 43-49 ms against 3-4 ms before on a quiet machine, 24 ms against 13 ms on one loaded 20-fold.
        // The member must confirm the point active and the mean must have risen by at least 10 ms.
        evidence.Add(active ? $"{name} confirmed fsync-delay {SlowDiskMs} ms active" : $"{name} did not list fsync-delay as active");
        return (active && syncs > 0 && meanMs >= baselineMs + 10, end);
    }

    private async Task<(bool, double)> FsyncErrorAsync(MemberAdmin points, int target, bool isLeader, ulong term, DateTime holdUntil, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        var pid = cluster.Pid(target);
        await points.SetFaultAsync(target, """{"point":"fsync-error","enabled":true}""", cancel).ConfigureAwait(false);
        evidence.Add($"fsync-error on {name} (pid {pid})");
        var exit = await Poll.UntilAsync(() => Task.FromResult(cluster.ExitCode(target)), Remaining(holdUntil) + EffectGrace, cancel).ConfigureAwait(false);
        evidence.Add(exit is { } code ? $"{name} failed stop: exit code {code}" : $"{name} kept running with failing fsyncs");
        var observed = exit == ExitFailStop;
        if (isLeader)
        {
            var replaced = await WaitForNewLeaderAsync(Others(target), term, holdUntil + EffectGrace, cancel).ConfigureAwait(false);
            evidence.Add(replaced is { } r ? $"{cluster.Members[r.Index].Name} leads in term {r.Term} at +{Seconds(now())}" : "no new leader after the leader's fsync error");
            observed &= replaced is not null;
        }

        if (cluster.IsRunning(target))
        {
            await cluster.KillAsync(target).ConfigureAwait(false); // never observed to fail stop: restart it anyway, fault points off
        }

        await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
        cluster.Start(target); // a new process: its fault points start off
        var end = now();
        var back = await Poll.UntilTrueAsync(async () => await cluster.TryStatusAsync(target, cancel).ConfigureAwait(false) is not null, RecoveryPatience, cancel).ConfigureAwait(false);
        evidence.Add(back ? $"{name} restarted (pid {cluster.Pid(target)}) and answers again" : $"{name} restarted but does not answer");
        return (observed && back, end);
    }

    private async Task<(bool, double)> DiskFullAsync(MemberAdmin points, int target, DateTime holdUntil, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        await points.SetFaultAsync(target, """{"point":"disk-full","enabled":true}""", cancel).ConfigureAwait(false);
        bool refused;
        var alarmRaised = false;
        try
        {
            // Log appends go into the WAL segment's preallocated blocks and keep working, as on a real full disk; a
            // defragment needs a new snapshot file, so it is where the full disk shows at once.
            try
            {
                await cluster.MaintenanceOf(target).DefragmentAsync(new DefragmentRequest(), deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10), cancellationToken: cancel).ConfigureAwait(false);
                evidence.Add($"a defragment on {name} succeeded on a full disk");
                refused = false;
            }
            catch (RpcException e)
            {
                evidence.Add($"a defragment on {name} was refused: {e.StatusCode} \"{e.Status.Detail}\"");
                refused = e.StatusCode == StatusCode.ResourceExhausted && e.Status.Detail.Contains("no space", StringComparison.OrdinalIgnoreCase);
            }

            alarmRaised = await Poll.UntilTrueAsync(() => NoSpaceAlarmAsync(target, cancel), Remaining(holdUntil), cancel).ConfigureAwait(false);
            evidence.Add(alarmRaised ? $"{name} raised the NOSPACE alarm" : $"{name} raised no NOSPACE alarm during the hold (its log still had preallocated room)");
            evidence.Add(cluster.IsRunning(target) ? $"{name} kept serving" : $"{name} stopped (exit code {cluster.ExitCode(target)})");
            await WaitUntil(holdUntil, cancel).ConfigureAwait(false);
        }
        finally
        {
            if (cluster.IsRunning(target))
            {
                await points.SetFaultAsync(target, """{"point":"disk-full","enabled":false}""", CancellationToken.None).ConfigureAwait(false);
            }
        }

        var end = now();
        if (alarmRaised)
        {
            var cleared = await Poll.UntilTrueAsync(async () => !await NoSpaceAlarmAsync(target, cancel).ConfigureAwait(false), RecoveryPatience, cancel).ConfigureAwait(false);
            evidence.Add(cleared ? "the alarm cleared once space returned" : "the alarm did not clear after space returned");
        }

        return (refused || alarmRaised, end);
    }

    private async Task<bool> NoSpaceAlarmAsync(int target, CancellationToken cancel)
    {
        try
        {
            var alarms = await cluster.MaintenanceOf(target).AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get },
                deadline: DateTime.UtcNow + TimeSpan.FromSeconds(2), cancellationToken: cancel).ConfigureAwait(false);
            return alarms.Alarms.Any(a => a.Alarm == AlarmType.Nospace);
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private async Task<(bool, double)> ClockJumpAsync(MemberAdmin points, int target, DateTime holdUntil, List<string> evidence, CancellationToken cancel)
    {
        var name = cluster.Members[target].Name;
        var start = (long)(await points.FaultsAsync(target, cancel).ConfigureAwait(false))["clockOffsetMs"]!;
        var forward = (long)(await points.SetFaultAsync(target, $$"""{"point":"clock-jump","delayMs":{{ClockJumpMs}}}""", cancel).ConfigureAwait(false))["clockOffsetMs"]!;
        evidence.Add($"{name}'s clock jumped forward: offset {start} -> {forward} ms");

        // Raft allows at most one leader per term; a member that sees another leader in its own term would show here.
        var leadersByTerm = new Dictionary<ulong, HashSet<ulong>>();
        while (DateTime.UtcNow < holdUntil)
        {
            foreach (var status in await cluster.StatusesAsync(cancel).ConfigureAwait(false))
            {
                if (status.IsLeader)
                {
                    (leadersByTerm.TryGetValue(status.Term, out var set) ? set : leadersByTerm[status.Term] = []).Add(status.MemberId);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancel).ConfigureAwait(false);
        }

        var back = (long)(await points.SetFaultAsync(target, $$"""{"point":"clock-jump","delayMs":{{-ClockJumpMs}}}""", cancel).ConfigureAwait(false))["clockOffsetMs"]!;
        var end = now();
        evidence.Add($"{name}'s clock jumped back: offset {forward} -> {back} ms");
        var twoLeaders = leadersByTerm.Where(t => t.Value.Count > 1).Select(t => t.Key).ToList();
        evidence.Add(twoLeaders.Count == 0
            ? $"one leader per term throughout ({string.Join(", ", leadersByTerm.Keys.Order().Select(t => $"term {t}"))})"
            : $"two leaders in term {string.Join(", ", twoLeaders)}");
        return (forward == start + ClockJumpMs && back == start && twoLeaders.Count == 0, end);
    }
}
