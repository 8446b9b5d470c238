using System.Globalization;
using System.Text;
using System.Text.Json;
using Bulwark.Availability.Estimation;

namespace Bulwark.Availability.Journals;

/// <summary>One outage of a member as the cluster saw it: from the first credible judgement that it was down to the
/// first sign of its return. <see cref="Observers"/> are the members that judged it down; <see cref="WasLeader"/> says
/// a leader election followed it (the member led when it was lost).</summary>
public sealed record Outage(string Node, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<string> Observers, bool OpenAtEnd, bool WasLeader = false)
{
    public double Seconds => (End - Start).TotalSeconds;
}

/// <summary>A change of leader as the journals show it: the first sign of trouble (a member turning candidate, the
/// old leader suspected or judged down, a health transfer) to the first record of the new leader in its higher term.
/// <see cref="AfterLeaderOutage"/>: the old leader had an outage around it, so it is the failover of a leader failure.</summary>
public sealed record Failover(string? PreviousLeader, string NewLeader, long Term, DateTimeOffset Start, DateTimeOffset Elected, bool AfterLeaderOutage)
{
    public double Seconds => (Elected - Start).TotalSeconds;
}

/// <summary>What the merge did with the members' records: how many node_down/node_up each observer wrote, how many
/// outages they made before and after the rules, and unreadable lines skipped.</summary>
public sealed record MergeCounts(int Observers, int DownRecords, int UpRecords, int RawOutages, int DroppedFromMinority, int Coalesced, int ClippedAway, int UnreadableLines);

/// <summary>
/// One cluster's event log, merged from its members' journals (<see cref="JournalMerge"/>): per member its outages, the
/// leader failovers, and what the merge did. <see cref="ToJsonLines"/> is the log `bulwark availability estimate` reads
/// (docs/availability.md, "The event log").
/// </summary>
public sealed record ClusterJournal(
    IReadOnlyList<string> Nodes,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<Outage> Outages,
    IReadOnlyList<Failover> Failovers,
    MergeCounts Counts)
{
    /// <summary>Failovers after a leader outage: what the model's failover time is taken from.</summary>
    public IReadOnlyList<Failover> LeaderFailovers => Failovers.Where(f => f.AfterLeaderOutage).ToList();

    /// <summary>Mean failover time after leader outages in hours, or null when the journals show none.</summary>
    public double? MeanFailoverHours => LeaderFailovers.Count == 0 ? null : LeaderFailovers.Average(f => f.Seconds) / 3600;

    /// <summary>The log as JSON lines: observation_start (with the nodes), node_down/node_up per outage (the reason
    /// names the observers), leader_failover records (skipped by the estimator, kept for the reader), observation_end.</summary>
    public string ToJsonLines()
    {
        var lines = new List<(DateTimeOffset At, int Order, string Json)>();
        lines.Add((WindowStart, 0, Line(WindowStart, EventLog.ObservationStart, null, null, json => WriteNodes(json))));
        foreach (var o in Outages)
        {
            var who = string.Join(", ", o.Observers);
            lines.Add((o.Start, 1, Line(o.Start, EventLog.NodeDown, o.Node, $"judged down by {who}{(o.WasLeader ? " (was leader)" : "")}", null)));
            if (!o.OpenAtEnd)
            {
                lines.Add((o.End, 1, Line(o.End, EventLog.NodeUp, o.Node, "heard from again", null)));
            }
        }

        foreach (var f in Failovers)
        {
            lines.Add((f.Elected, 2, Line(f.Elected, "leader_failover", f.NewLeader, f.AfterLeaderOutage ? "after the leader's outage" : "no outage of the old leader seen", json =>
            {
                if (f.PreviousLeader is not null)
                {
                    json.WriteString("previous", f.PreviousLeader);
                }

                json.WriteNumber("term", f.Term);
                json.WriteNumber("failover_ms", Math.Round(f.Seconds * 1000, 1));
            })));
        }

        var text = new StringBuilder();
        foreach (var line in lines.OrderBy(l => l.At).ThenBy(l => l.Order))
        {
            text.Append(line.Json).Append('\n');
        }

        text.Append(Line(WindowEnd, EventLog.ObservationEnd, null, null, null)).Append('\n');
        return text.ToString();
    }

    /// <summary>The same log, parsed as the estimator parses a file.</summary>
    public EventLog ToEventLog() => EventLog.Parse(ToJsonLines());

    private void WriteNodes(Utf8JsonWriter json)
    {
        json.WriteStartArray("nodes");
        foreach (var n in Nodes)
        {
            json.WriteStringValue(n);
        }

        json.WriteEndArray();
        json.WriteString("source", "merged member journals");
    }

    private static string Line(DateTimeOffset at, string kind, string? node, string? reason, Action<Utf8JsonWriter>? more)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("ts", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("event", kind);
            if (node is not null)
            {
                json.WriteString("node", node);
            }

            if (reason is not null)
            {
                json.WriteString("reason", reason);
            }

            more?.Invoke(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
