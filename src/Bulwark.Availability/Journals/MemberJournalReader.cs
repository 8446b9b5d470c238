using System.Globalization;
using System.Text.Json;

namespace Bulwark.Availability.Journals;

/// <summary>
/// Reads one member's event journal: the current file events.jsonl and its rotated predecessors events.jsonl.1
/// (newest) .. events.jsonl.N (oldest), oldest first, so the records come out in the order the member wrote them.
/// A line that cannot be read (a record torn by SIGKILL in the middle of its write, a line without a timestamp) is
/// skipped and counted: the merge works from what the journals say, and a torn tail must not hide the rest.
/// </summary>
public static class MemberJournalReader
{
    public const string FileName = "events.jsonl";

    /// <summary>The journal files in <paramref name="directory"/>, oldest first (events.jsonl.N .. .1, then events.jsonl).</summary>
    public static IReadOnlyList<string> FilesOldestFirst(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        // The pattern also matches events.jsonl itself (".*" matches an empty extension), hence the length check.
        var rotated = Directory.GetFiles(directory, FileName + ".*")
            .Select(f => Path.GetFileName(f))
            .Where(name => name.Length > FileName.Length + 1)
            .Select(name => (Path: Path.Combine(directory, name), Number: int.TryParse(name[(FileName.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1))
            .Where(f => f.Number > 0)
            .OrderByDescending(f => f.Number)
            .Select(f => f.Path)
            .ToList();
        var current = Path.Combine(directory, FileName);
        if (File.Exists(current))
        {
            rotated.Add(current);
        }

        return rotated;
    }

    /// <summary>Reads the journal of <paramref name="observer"/> from <paramref name="directory"/>.</summary>
    public static (IReadOnlyList<JournalRecord> Records, int Unreadable) ReadDirectory(string observer, string directory)
    {
        var lines = FilesOldestFirst(directory).SelectMany(File.ReadLines);
        return Read(observer, lines);
    }

    /// <summary>Parses journal lines written by <paramref name="observer"/>, in the order given.</summary>
    public static (IReadOnlyList<JournalRecord> Records, int Unreadable) Read(string observer, IEnumerable<string> lines)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(observer);
        ArgumentNullException.ThrowIfNull(lines);
        var records = new List<JournalRecord>();
        var unreadable = 0;
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (TryParse(observer, line) is { } record)
            {
                records.Add(record);
            }
            else
            {
                unreadable++;
            }
        }

        return (records, unreadable);
    }

    private static JournalRecord? TryParse(string observer, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || String(root, "event") is not { } kind
                || String(root, "ts") is not { } ts
                || !DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                return null;
            }

            long? term = root.TryGetProperty("term", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt64(out var tv) ? tv : null;
            return new JournalRecord(at.ToUniversalTime(), observer, kind, String(root, "node"), String(root, "leader"), term);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement root, string field) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
