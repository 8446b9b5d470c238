using System.Globalization;
using System.Text.Json;

namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>One stored record as the audit reads it: its key's number and its JSON fields.</summary>
internal sealed record StoredRecord(long KeyN, long N, string Instance, long Token);

/// <summary>
/// The sample's invariants over a whole run: records 1..max with no gap and no duplicate (each number's key holds that
/// number), fencing tokens non-decreasing with the number, and every record written by the instance that held its
/// token (the wins the workers logged). Pure, so its own tests can show it catches each kind of violation.
/// </summary>
internal static class RecordAudit
{
    /// <summary>Every violation found, in words; empty when the run was clean.</summary>
    /// <param name="records">The stored records, in key order.</param>
    /// <param name="holders">Token -> the instance that won the leadership with it (from the workers' logs).</param>
    public static IReadOnlyList<string> Violations(IReadOnlyList<StoredRecord> records, IReadOnlyDictionary<long, string> holders)
    {
        var problems = new List<string>();
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var expected = i + 1L;
            if (record.KeyN != expected)
            {
                problems.Add(record.KeyN > expected
                    ? $"gap: record {expected} is missing (the next key is {record.KeyN})"
                    : $"duplicate or out of order: key {record.KeyN} at position {expected}");
                break;
            }

            if (record.N != record.KeyN)
            {
                problems.Add($"record {record.KeyN} holds number {record.N}");
            }

            if (i > 0 && record.Token < records[i - 1].Token)
            {
                problems.Add($"token went back at record {record.KeyN}: {records[i - 1].Token} then {record.Token}");
            }

            if (!holders.TryGetValue(record.Token, out var holder))
            {
                problems.Add($"record {record.KeyN} has token {record.Token}, which no worker logged winning");
            }
            else if (holder != record.Instance)
            {
                problems.Add($"record {record.KeyN} was written by {record.Instance} under token {record.Token}, held by {holder}");
            }
        }

        return problems;
    }

    /// <summary>Parses a stored record: key <c>{prefix}{n:D10}</c>, value <c>{"n":..,"instance":..,"token":..}</c>.</summary>
    public static StoredRecord Parse(string prefix, string key, string json)
    {
        var keyN = long.Parse(key.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new StoredRecord(keyN, root.GetProperty("n").GetInt64(), root.GetProperty("instance").GetString() ?? "", root.GetProperty("token").GetInt64());
    }
}
