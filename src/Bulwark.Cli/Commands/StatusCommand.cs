using System.CommandLine;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Grpc.Core;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark status`: one row per member (the given endpoints plus every member the cluster lists) from each member's
/// own Maintenance.Status: name, id, role, term, commit and applied index, the leader it follows, and health. A member
/// that does not answer is shown down. Exits 0 when every member is up and follows a leader, 1 otherwise.
/// </summary>
public static class StatusCommand
{
    /// <summary>One member's row; null fields are unknown because the member did not answer.</summary>
    public sealed record MemberRow(
        string Name,
        string? Id,
        string Endpoint,
        string Role,
        ulong? Term,
        ulong? CommitIndex,
        ulong? AppliedIndex,
        string? Leader,
        string Health);

    public static Command Create()
    {
        var command = new Command("status", "Show every member: name, id, role, term, commit and applied index, leader and health.");
        ClientCommand.SetClientAction(command, async (parse, connection, output, json, cancellation) =>
        {
            var rows = await CollectAsync(connection, cancellation).ConfigureAwait(false);
            if (json)
            {
                KvPrinter.WriteJson(output, rows);
            }
            else
            {
                WriteTable(output, rows);
            }

            return rows.All(r => r.Health == "healthy") ? 0 : ClientCommand.ExitFailed;
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

        using var extra = new EtcdConnection(endpoints, connection.Timeout);
        var statuses = await Task.WhenAll(endpoints.Select((_, i) => StatusAsync(extra, i, cancellation))).ConfigureAwait(false);
        var rows = new List<MemberRow>();
        for (var i = 0; i < endpoints.Count; i++)
        {
            var (status, error) = statuses[i];
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
                status.Leader == 0 ? "unhealthy: no leader" : "healthy"));
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
        var widths = header.Select((h, c) => cells.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();
        output.WriteLine(Line(header));
        foreach (var row in cells)
        {
            output.WriteLine(Line(row));
        }

        string Line(string[] values) => string.Join("  ", values.Select((v, c) => c == values.Length - 1 ? v : v.PadRight(widths[c]))).TrimEnd();
    }

    private static string Number(ulong? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
}
