using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V1;
using Bulwark.Cli.Client;
using Grpc.Core;

namespace Bulwark.Cli.Commands;

/// <summary>
/// The parts of `bulwark status` beyond etcd's Status: each member's view of its peers (bulwark.v1.Node.Peers) and the
/// active alarms (etcd's Maintenance.Alarm GET). Neither is required: a real etcd does not serve the first and older
/// members may not serve the second, which is reported as a note, never as a failed command.
/// </summary>
public static class StatusPeerView
{
    /// <summary>One peer as the observing member's failure detector judges it.</summary>
    /// <param name="Judged">False when the observer has no evidence either way: it expects no traffic from the peer and its own
    /// connection to the peer is neither established nor down for long enough (every member judges every peer by its
    /// connection, so a follower sees a fellow follower go down).</param>
    public sealed record PeerRow(string Name, string Id, string State, bool Judged, string Reason, double Phi, double? RttMs, double? SmoothedRttMs, double? SilentMs);

    /// <summary>One active alarm: the member it is raised on and its type (NOSPACE, CORRUPT).</summary>
    public sealed record AlarmRow(string Member, string MemberId, string Alarm);

    /// <summary>The member's peer view, or why there is none.</summary>
    public static async Task<(IReadOnlyList<PeerRow>? Peers, string? Unavailable)> PeersAsync(EtcdConnection connection, int endpoint, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            var response = await connection.Node(endpoint).PeersAsync(new PeersRequest(), connection.Options(cancellation)).ResponseAsync.ConfigureAwait(false);
            return (response.Peers.Select(ToRow).ToList(), null);
        }
        catch (RpcException e)
        {
            return (null, PeersUnavailable(e));
        }
    }

    /// <summary>The alarms the member reports as active, or why it reports none.</summary>
    public static async Task<(IReadOnlyList<AlarmMember>? Alarms, string? Unavailable)> AlarmsAsync(EtcdConnection connection, int endpoint, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            var request = new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get };
            var response = await connection.Maintenance(endpoint).AlarmAsync(request, connection.Options(cancellation)).ResponseAsync.ConfigureAwait(false);
            return (response.Alarms.Where(a => a.Alarm != AlarmType.None).ToList(), null);
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode == StatusCode.Unimplemented ? "this member does not serve Maintenance.Alarm" : Describe(e));
        }
    }

    /// <summary>Why a member gave no peer view, in words: Unimplemented means it is not Bulwark (etcd has no such service).</summary>
    public static string PeersUnavailable(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.StatusCode switch
        {
            StatusCode.Unimplemented => "not a Bulwark member (it does not serve bulwark.v1.Node; an etcd server?)",
            StatusCode.FailedPrecondition => e.Status.Detail,
            _ => Describe(e),
        };
    }

    /// <summary>Each member's peers, one line per (observer, peer), then a line per member without a peer view.</summary>
    public static void WritePeerTable(TextWriter output, IReadOnlyList<StatusCommand.MemberRow> members)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(members);
        var answered = members.Where(m => m.Peers is not null).ToList();
        if (answered.Count > 0)
        {
            string[] header = ["OBSERVER", "PEER", "STATE", "PHI", "RTT MS", "SRTT MS", "SILENT MS", "REASON"];
            // A peer the observer does not judge gets no verdict in the table ("-"; the reason says why): showing it UP
            // would contradict the member row of a peer that is in fact down. JSON keeps the detector's state and "judged".
            var cells = answered.SelectMany(m => m.Peers!.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new[]
            {
                m.Name, p.Name, p.Judged ? p.State : "-", p.Judged ? Format(p.Phi, "F2") : "-", Format(p.RttMs, "F2"), Format(p.SmoothedRttMs, "F2"), Format(p.SilentMs, "F0"), p.Reason,
            })).ToList();
            TextTable.Write(output, header, cells);
        }

        foreach (var member in members.Where(m => m.PeersUnavailable is not null))
        {
            output.WriteLine($"{member.Name} ({member.Endpoint}): no peer view: {member.PeersUnavailable}");
        }
    }

    /// <summary>The active alarms of the whole cluster (each member reports all it knows; duplicates are shown once).</summary>
    public static void WriteAlarms(TextWriter output, IReadOnlyList<StatusCommand.MemberRow> members)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(members);
        var alarms = ActiveAlarms(members);
        if (alarms.Count > 0)
        {
            TextTable.Write(output, ["ALARM", "MEMBER", "ID"], [.. alarms.Select(a => new[] { a.Alarm, a.Member, a.MemberId })]);
        }
        else if (members.Any(m => m.Alarms is not null))
        {
            output.WriteLine("alarms: none");
        }
        else
        {
            var why = members.Select(m => m.AlarmsUnavailable).FirstOrDefault(u => u is not null) ?? "no member answered";
            output.WriteLine($"alarms: unknown ({why})");
        }
    }

    /// <summary>Every distinct alarm any member reported.</summary>
    public static IReadOnlyList<AlarmRow> ActiveAlarms(IReadOnlyList<StatusCommand.MemberRow> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        return [.. members.SelectMany(m => m.Alarms ?? []).Distinct().OrderBy(a => a.Member, StringComparer.Ordinal).ThenBy(a => a.Alarm, StringComparer.Ordinal)];
    }

    private static PeerRow ToRow(Peer peer) => new(
        peer.Name,
        peer.MemberId.ToString("x", CultureInfo.InvariantCulture),
        peer.State switch
        {
            Bulwark.Api.V1.PeerState.Suspect => "SUSPECT",
            Bulwark.Api.V1.PeerState.Down => "DOWN",
            Bulwark.Api.V1.PeerState.Up => "UP",
            _ => "?",
        },
        peer.Judged,
        peer.Reason,
        Math.Round(peer.Phi, 2),
        peer.HasLastRttMs ? Math.Round(peer.LastRttMs, 3) : null,
        peer.HasSmoothedRttMs ? Math.Round(peer.SmoothedRttMs, 3) : null,
        peer.HasSilentMs ? Math.Round(peer.SilentMs) : null);

    private static string Describe(RpcException e) =>
        e.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : $"{e.Status.DebugException?.Message ?? e.Status.Detail} (gRPC {e.StatusCode})";

    private static string Format(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";
}
