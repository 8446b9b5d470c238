using Bulwark.Server.Observability;

namespace Bulwark.Server.Admin;

/// <summary>What /status.json returns and the status page renders.</summary>
public sealed record StatusDocument(
    string Node,
    string Id,
    DateTimeOffset Time,
    string Leader,
    ulong Term,
    double WriteRate,
    IReadOnlyList<MemberView> Members,
    IReadOnlyList<LeaderChange> LeaderHistory,
    IReadOnlyList<JournalEvent> Events)
{
    /// <summary>Every active alarm in the cluster as "member: ALARM", from the members' vital signs.</summary>
    public IReadOnlyList<string> Alarms =>
        [.. Members.Where(m => m.Vitals is not null).SelectMany(m => m.Vitals!.Alarms.Select(a => m.Name + ": " + a))];

    public static async Task<StatusDocument> BuildAsync(NodeObservability observability, MemberStatusProbe probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observability);
        ArgumentNullException.ThrowIfNull(probe);
        var node = observability.Node ?? throw new InvalidOperationException("observability is not attached to a node");
        var self = node.Status;
        var members = node.Members;
        var answers = await probe.ProbeAsync(members, self.Id, cancellationToken).ConfigureAwait(false);
        var judged = observability.Current.Peers.ToDictionary(p => p.Id);
        var now = DateTimeOffset.UtcNow;
        var views = new List<MemberView>();
        foreach (var member in members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (member.Id == self.Id)
            {
                views.Add(new MemberView(AdminServer.Hex(member.Id), member.Name, true, true, AdminServer.RoleName(self.Role), self.Term, self.Commit, self.Applied,
                    self.Commit > self.Applied ? self.Commit - self.Applied : 0, "UP", 0, null,
                    SelfReason(self, node, observability),
                    MemberVitals.Local(observability, node, now)));
                continue;
            }

            var peer = judged.GetValueOrDefault(member.Id);
            var answer = answers.GetValueOrDefault(member.Id);
            // A member that does not answer is shown DOWN even when this node does not judge it (a follower's view of another follower).
            var state = peer?.State.ToString().ToUpperInvariant() ?? "UP";
            var reason = peer?.Reason ?? "";
            if (answer is null && state == "UP")
            {
                state = "DOWN";
                reason = "does not answer Status on its client URLs";
            }

            var role = answer is null ? "UNREACHABLE" : answer.Status.Leader == member.Id ? "LEADER" : answer.Status.Leader == 0 ? "NO LEADER" : "FOLLOWER";
            var commit = answer?.Status.RaftIndex ?? 0;
            var applied = answer?.Status.RaftAppliedIndex ?? 0;
            views.Add(new MemberView(AdminServer.Hex(member.Id), member.Name, false, answer is not null, role, answer?.Status.RaftTerm ?? 0, commit, applied,
                answer is null ? 0 : self.Commit > applied ? self.Commit - applied : 0, state, peer?.Phi ?? 0, peer?.RoundTripMs, reason,
                answer?.Vitals is { } vitals ? MemberVitals.From(vitals, now) : null));
        }

        return new StatusDocument(observability.Name, AdminServer.Hex(self.Id), now,
            self.Leader == 0 ? "" : observability.NameOf(self.Leader), self.Term, Math.Round(observability.WriteRate, 2), views,
            observability.LeaderHistory(), [.. observability.Journal.Recent().TakeLast(50).Reverse()]);
    }

    private static string SelfReason(Hosting.NodeStatus self, Hosting.NodeHost node, NodeObservability observability)
    {
        var reason = self.NoSpaceAlarm ? "this member; ALARM NOSPACE: its disk is full, client writes are refused" : "this member";
        var corrupt = node.ReplicatedAlarms.Where(a => a.Alarm == Bulwark.Api.Etcdserverpb.AlarmType.Corrupt).Select(a => observability.NameOf(a.MemberId)).ToList();
        return corrupt.Count == 0 ? reason
            : $"{reason}; ALARM CORRUPT ({string.Join(", ", corrupt)}): that member's data differs from the others', writes are refused cluster-wide";
    }
}
