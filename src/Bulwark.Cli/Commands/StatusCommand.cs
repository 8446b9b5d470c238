using System.CommandLine;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Grpc.Core;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark status`: one row per member (the given endpoints plus every member the cluster lists) from each member's
/// own Maintenance.Status: name, id, role, term, commit and applied index, the leader it follows, and health. A member
/// that does not answer is shown down. Then each member's view of its peers (<see cref="StatusPeerView"/>) and the
/// active alarms. Exits 0 when every member is up and follows a leader and no alarm is active, 1 otherwise.
/// </summary>
public static class StatusCommand
{
    /// <summary>One member's row; null fields are unknown because the member did not answer.</summary>
    /// <param name="Peers">The member's failure-detector view of the others (null: see <paramref name="PeersUnavailable"/>).</param>
    /// <param name="Alarms">The active alarms the member reports (null: see <paramref name="AlarmsUnavailable"/>).</param>
    public sealed record MemberRow(
        string Name,
        string? Id,
        string Endpoint,
        string Role,
        ulong? Term,
        ulong? CommitIndex,
        ulong? AppliedIndex,
        string? Leader,
        string Health,
        IReadOnlyList<StatusPeerView.PeerRow>? Peers = null,
        string? PeersUnavailable = null,
        IReadOnlyList<StatusPeerView.AlarmRow>? Alarms = null,
        string? AlarmsUnavailable = null);

    public static Command Create()
    {
        var command = new Command("status", "Show every member (name, id, role, term, commit and applied index, leader, health), each member's view of its peers, and active alarms.");
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var rows = await CollectAsync(connection, cancellation).ConfigureAwait(false);
            if (format == OutputFormat.Json)
            {
                KvPrinter.WriteJson(output, rows);
            }
            else
            {
                WriteTable(output, rows);
                output.WriteLine();
                StatusPeerView.WritePeerTable(output, rows);
                output.WriteLine();
                StatusPeerView.WriteAlarms(output, rows);
            }

            return rows.All(r => r.Health == "healthy") && StatusPeerView.ActiveAlarms(rows).Count == 0 ? 0 : ClientCommand.ExitFailed;
        });
        return command;
    }

    public static async Task<IReadOnlyList<MemberRow>> CollectAsync(EtcdConnection connection, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var members = await MembersAsync(connection, cancellation).ConfigureAwait(false);
        var names = members.ToDictionary(m => m.ID, m => m.Name);
        var endpoints = connection.Endpoints.ToList();
        foreach (var url in members.SelectMany(m => m.ClientURLs))
        {
            if (!endpoints.Contains(url, StringComparer.OrdinalIgnoreCase))
            {
                endpoints.Add(url);
            }
        }

        using var extra = new EtcdConnection(endpoints, connection.Timeout, connection.Tls);
        var statuses = await Task.WhenAll(endpoints.Select((_, i) => AnswersAsync(extra, i, cancellation))).ConfigureAwait(false);
        var rows = new List<MemberRow>();
        for (var i = 0; i < endpoints.Count; i++)
        {
            var (status, error, peers, peersUnavailable, alarms, alarmsUnavailable) = statuses[i];
            var listed = members.FirstOrDefault(m => m.ClientURLs.Contains(endpoints[i], StringComparer.OrdinalIgnoreCase));
            if (status is null)
            {
                rows.Add(new MemberRow(listed?.Name ?? "?", listed is null ? null : Hex(listed.ID), endpoints[i], "-", null, null, null, null, $"down: {error}"));
                continue;
            }

            var self = status.Header.MemberId;
            var role = status.Leader == 0 ? "no leader" : status.Leader == self ? "leader" : "follower";
            var leader = status.Leader == 0 ? null : names.TryGetValue(status.Leader, out var leaderName) ? leaderName : Hex(status.Leader);
            rows.Add(new MemberRow(
                names.TryGetValue(self, out var name) ? name : listed?.Name ?? "?",
                Hex(self),
                endpoints[i],
                role,
                status.RaftTerm,
                status.RaftIndex,
                status.RaftAppliedIndex,
                leader,
                status.Leader == 0 ? "unhealthy: no leader" : "healthy",
                peers,
                peersUnavailable,
                alarms?.Select(a => new StatusPeerView.AlarmRow(names.TryGetValue(a.MemberID, out var member) ? member : Hex(a.MemberID), Hex(a.MemberID), a.Alarm.ToString().ToUpperInvariant())).ToList(),
                alarmsUnavailable));
        }

        return rows;
    }

    private static async Task<IReadOnlyList<Member>> MembersAsync(EtcdConnection connection, CancellationToken cancellation)
    {
        try
        {
            var response = await connection.CallAsync((i, options) => connection.Cluster(i).MemberListAsync(new MemberListRequest(), options).ResponseAsync, cancellation).ConfigureAwait(false);
            return response.Members;
        }
        catch (RpcException)
        {
            return []; // no member answered: every row will say down, which is the news
        }
    }

    /// <summary>Status first; only a member that answers it is asked for its peer view and alarms (at once).</summary>
    private static async Task<(StatusResponse? Status, string? Error, IReadOnlyList<StatusPeerView.PeerRow>? Peers, string? PeersUnavailable,
        IReadOnlyList<AlarmMember>? Alarms, string? AlarmsUnavailable)> AnswersAsync(EtcdConnection connection, int i, CancellationToken cancellation)
    {
        var (status, error) = await StatusAsync(connection, i, cancellation).ConfigureAwait(false);
        if (status is null)
        {
            return (null, error, null, null, null, null);
        }

        var peers = StatusPeerView.PeersAsync(connection, i, cancellation);
        var alarms = StatusPeerView.AlarmsAsync(connection, i, cancellation);
        var (peerRows, peersUnavailable) = await peers.ConfigureAwait(false);
        var (alarmMembers, alarmsUnavailable) = await alarms.ConfigureAwait(false);
        return (status, null, peerRows, peersUnavailable, alarmMembers, alarmsUnavailable);
    }

    private static async Task<(StatusResponse? Status, string? Error)> StatusAsync(EtcdConnection connection, int i, CancellationToken cancellation)
    {
        try
        {
            return (await connection.Maintenance(i).StatusAsync(new StatusRequest(), connection.Options(cancellation)).ResponseAsync.ConfigureAwait(false), null);
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : e.Status.DebugException?.Message ?? e.Status.Detail);
        }
    }

    private static void WriteTable(TextWriter output, IReadOnlyList<MemberRow> rows)
    {
        string[] header = ["NAME", "ID", "ENDPOINT", "ROLE", "TERM", "COMMIT", "APPLIED", "LEADER", "HEALTH"];
        var cells = rows.Select(r => new[]
        {
            r.Name, r.Id ?? "-", r.Endpoint, r.Role, Number(r.Term), Number(r.CommitIndex), Number(r.AppliedIndex), r.Leader ?? "-", r.Health,
        }).ToList();
        TextTable.Write(output, header, cells);
    }

    private static string Number(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
}
