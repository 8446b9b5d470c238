using System.Globalization;
using System.Text.Json;

namespace Bulwark.Availability.Estimation;

/// <summary>A node changed state: went down (failed) or came back up (repaired).</summary>
public sealed record NodeTransition(DateTimeOffset Timestamp, string Node, bool IsUp, int Line, string? Reason);

/// <summary>
/// A JSON-lines event log of node up/down transitions (format in docs/availability.md). Kinds read:
/// <c>node_down</c>, <c>node_up</c>, <c>observation_start</c> (optionally listing <c>nodes</c>) and
/// <c>observation_end</c>; any other kind is skipped so a richer server event journal can be fed in directly.
/// </summary>
public sealed class EventLog
{
    public const string NodeDown = "node_down";
    public const string NodeUp = "node_up";
    public const string ObservationStart = "observation_start";
    public const string ObservationEnd = "observation_end";

    private EventLog(DateTimeOffset? start, DateTimeOffset? end, IReadOnlyList<string> declaredNodes, IReadOnlyList<NodeTransition> transitions, int skipped, DateTimeOffset? earliest, DateTimeOffset? latest)
    {
        WindowStart = start;
        WindowEnd = end;
        DeclaredNodes = declaredNodes;
        Transitions = transitions;
        SkippedRecords = skipped;
        EarliestRecord = earliest;
        LatestRecord = latest;
    }

    /// <summary>Time of the <c>observation_start</c> record, if any.</summary>
    public DateTimeOffset? WindowStart { get; }

    /// <summary>Time of the <c>observation_end</c> record, if any.</summary>
    public DateTimeOffset? WindowEnd { get; }

    /// <summary>Node names listed by <c>observation_start</c>'s <c>nodes</c> field (empty if not given).</summary>
    public IReadOnlyList<string> DeclaredNodes { get; }

    /// <summary>Node transitions in log order (timestamps non-decreasing).</summary>
    public IReadOnlyList<NodeTransition> Transitions { get; }

    /// <summary>Records of other kinds that were skipped.</summary>
    public int SkippedRecords { get; }

    /// <summary>
    /// The earliest readable timestamp of any record, skipped kinds included (null if none). A server journal whose
    /// member never judged a peer down holds no node record at all, yet its records show the time it was watching.
    /// </summary>
    public DateTimeOffset? EarliestRecord { get; }

    /// <summary>The latest readable timestamp of any record, skipped kinds included (null if none).</summary>
    public DateTimeOffset? LatestRecord { get; }

    public static EventLog Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new AvailabilityInputException("log", $"event log '{path}' does not exist");
        }

        using var reader = new StreamReader(path);
        return Parse(reader);
    }

    public static EventLog Parse(string text)
    {
        using var reader = new StringReader(text);
        return Parse(reader);
    }

    public static EventLog Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        DateTimeOffset? start = null;
        DateTimeOffset? end = null;
        var declared = new List<string>();
        var transitions = new List<NodeTransition>();
        int skipped = 0;
        DateTimeOffset? earliest = null;
        DateTimeOffset? latest = null;
        DateTimeOffset? last = null;
        int lastLine = 0;
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var doc = ParseJson(line, lineNumber);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new EventLogFormatException(lineNumber, "record", $"expected a JSON object, found {root.ValueKind}");
            }

            string kind = RequiredString(root, "event", lineNumber);
            if (kind is not (NodeDown or NodeUp or ObservationStart or ObservationEnd))
            {
                // Other kinds are not checked, but a readable timestamp still says the log was being written then.
                if (TryTimestamp(root, out var seen))
                {
                    See(seen);
                }

                skipped++;
                continue;
            }

            var ts = Timestamp(root, lineNumber);
            See(ts);
            if (last is { } previous && ts < previous)
            {
                throw new EventLogFormatException(
                    lineNumber,
                    "ts",
                    $"timestamp {Iso(ts)} is earlier than {Iso(previous)} on line {lastLine}; records must be in time order");
            }

            if (end is not null)
            {
                throw new EventLogFormatException(lineNumber, "event", $"'{kind}' record after observation_end; observation_end must be the last record");
            }

            switch (kind)
            {
                case ObservationStart:
                    if (start is not null || transitions.Count > 0)
                    {
                        throw new EventLogFormatException(lineNumber, "event", "observation_start must appear once, before any node_up or node_down record");
                    }

                    start = ts;
                    declared.AddRange(NodeList(root, lineNumber));
                    break;
                case ObservationEnd:
                    end = ts;
                    break;
                default:
                    string node = RequiredString(root, "node", lineNumber);
                    if (node.Length == 0)
                    {
                        throw new EventLogFormatException(lineNumber, "node", "field 'node' is empty");
                    }

                    string? reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                    transitions.Add(new NodeTransition(ts, node, kind == NodeUp, lineNumber, reason));
                    break;
            }

            last = ts;
            lastLine = lineNumber;
        }

        return new EventLog(start, end, declared, transitions, skipped, earliest, latest);

        void See(DateTimeOffset ts)
        {
            earliest = earliest is { } e && e <= ts ? e : ts;
            latest = latest is { } l && l >= ts ? l : ts;
        }
    }

    private static JsonDocument ParseJson(string line, int lineNumber)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new EventLogFormatException(lineNumber, "record", $"not valid JSON ({e.Message})");
        }
    }

    private static string RequiredString(JsonElement root, string field, int lineNumber)
    {
        if (!root.TryGetProperty(field, out var value))
        {
            throw new EventLogFormatException(lineNumber, field, $"missing field '{field}'");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new EventLogFormatException(lineNumber, field, $"field '{field}' must be a string, found {value.ValueKind}");
        }

        return value.GetString()!;
    }

    private static DateTimeOffset Timestamp(JsonElement root, int lineNumber)
    {
        string text = RequiredString(root, "ts", lineNumber);
        return TryParseTimestamp(text, out var ts)
            ? ts
            : throw new EventLogFormatException(lineNumber, "ts", $"field 'ts' is '{text}', not an ISO-8601 timestamp such as 2026-11-28T12:00:00.000Z");
    }

    private static bool TryTimestamp(JsonElement root, out DateTimeOffset ts)
    {
        ts = default;
        return root.TryGetProperty("ts", out var value) && value.ValueKind == JsonValueKind.String && TryParseTimestamp(value.GetString()!, out ts);
    }

    private static bool TryParseTimestamp(string text, out DateTimeOffset ts)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out ts)
            && text.Contains('T', StringComparison.Ordinal))
        {
            ts = ts.ToUniversalTime();
            return true;
        }

        return false;
    }

    private static IEnumerable<string> NodeList(JsonElement root, int lineNumber)
    {
        if (!root.TryGetProperty("nodes", out var nodes))
        {
            return [];
        }

        if (nodes.ValueKind != JsonValueKind.Array || nodes.EnumerateArray().Any(n => n.ValueKind != JsonValueKind.String || n.GetString()!.Length == 0))
        {
            throw new EventLogFormatException(lineNumber, "nodes", "field 'nodes' must be an array of non-empty node names");
        }

        var names = nodes.EnumerateArray().Select(n => n.GetString()!).ToList();
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new EventLogFormatException(lineNumber, "nodes", $"field 'nodes' lists '{duplicate.Key}' twice");
        }

        return names;
    }

    internal static string Iso(DateTimeOffset ts) => ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
