using System.Globalization;
using System.Text.Json;

namespace Bulwark.Server.Observability;

/// <summary>
/// What this member's event journal remembers from before the current start: how often the node started (so a restart
/// by a supervisor is visible) and the leader changes it saw. Read once at start from every journal file still on disk
/// (rotated files oldest first), so both survive a restart; a rotated-away file takes its records with it, so the counts
/// cover the journal's retention, not all time. Lines that do not parse (a torn last write) are skipped.
/// </summary>
public sealed record JournalHistory(int Starts, IReadOnlyList<LeaderChange> Leaders)
{
    public static readonly JournalHistory Empty = new(0, []);

    /// <summary>Reads the journal in <paramref name="journalDirectory"/>; keeps the newest <paramref name="maxLeaders"/> leader changes.</summary>
    public static JournalHistory Read(string journalDirectory, int maxLeaders)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(journalDirectory);
        if (!Directory.Exists(journalDirectory))
        {
            return Empty;
        }

        var files = Directory.GetFiles(journalDirectory, EventJournal.FileName + "*")
            .Select(path => (Path: path, Age: AgeOf(Path.GetFileName(path))))
            .Where(f => f.Age >= 0)
            .OrderByDescending(f => f.Age)
            .Select(f => f.Path);
        var starts = 0;
        var leaders = new Queue<LeaderChange>();
        foreach (var file in files)
        {
            foreach (var line in ReadLines(file))
            {
                if (Parse(line) is not { } record)
                {
                    continue;
                }

                if (record.Kind == JournalEvents.NodeStarted)
                {
                    starts++;
                }
                else if (record.Kind == JournalEvents.LeaderChanged && record.Leader is { } leader)
                {
                    leaders.Enqueue(leader);
                    while (leaders.Count > maxLeaders)
                    {
                        leaders.Dequeue();
                    }
                }
            }
        }

        return new JournalHistory(starts, [.. leaders]);
    }

    /// <summary>0 for events.jsonl, N for events.jsonl.N (older), -1 for anything else in the directory.</summary>
    private static int AgeOf(string fileName)
    {
        if (fileName == EventJournal.FileName)
        {
            return 0;
        }

        var suffix = fileName[EventJournal.FileName.Length..];
        return suffix.StartsWith('.') && int.TryParse(suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : -1;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static (string Kind, LeaderChange? Leader)? Parse(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var kind) || kind.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var name = kind.GetString()!;
            if (name != JournalEvents.LeaderChanged)
            {
                return (name, null);
            }

            if (!root.TryGetProperty("ts", out var ts) || !DateTimeOffset.TryParse(ts.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                || !root.TryGetProperty("term", out var term) || !term.TryGetUInt64(out var termValue)
                || !root.TryGetProperty("leader_id", out var id) || !ulong.TryParse(id.GetString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var leaderId))
            {
                return (name, null);
            }

            var leaderName = root.TryGetProperty("leader", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : id.GetString()!;
            return (name, new LeaderChange(at, termValue, leaderId, leaderName));
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
