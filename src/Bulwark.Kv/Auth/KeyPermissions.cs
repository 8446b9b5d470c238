using Bulwark.Api.Authpb;

namespace Bulwark.Kv.Auth;

/// <summary>
/// Whether a key or range lies inside what a user's roles grant: the granted keys and ranges of the wanted kind are
/// merged into disjoint intervals, and the request must fall inside one of them (etcd's interval check, so a range
/// covered by two touching grants passes and one that sticks out of every grant is refused).
/// </summary>
internal static class KeyPermissions
{
    /// <summary>
    /// Whether [key, rangeEnd) is covered. An empty <paramref name="rangeEnd"/> means the single key; "\0" means every
    /// key from <paramref name="key"/> on, as in requests and in granted permissions.
    /// </summary>
    public static bool Covers(IEnumerable<Permission> granted, Permission.Types.Type wanted, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        var merged = Merge(granted.Where(p => Grants(p.PermType, wanted)).Select(ToInterval));
        var start = key.ToArray();
        byte[]? end = EndOf(key, rangeEnd);
        if (end is not null && Compare(end, start) <= 0)
        {
            // An inverted or empty range names no key a grant could cover.
            return false;
        }

        foreach (var (from, to) in merged)
        {
            if (Compare(start, from) >= 0 && (to is null || (end is not null && Compare(end, to) <= 0)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Grants(Permission.Types.Type granted, Permission.Types.Type wanted) =>
        granted == Permission.Types.Type.Readwrite || granted == wanted;

    private static (byte[] From, byte[]? To) ToInterval(Permission permission) =>
        (permission.Key.ToByteArray(), EndOf(permission.Key.Span, permission.RangeEnd.Span));

    /// <summary>The exclusive end of [key, rangeEnd); null for "no end".</summary>
    private static byte[]? EndOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        if (rangeEnd.IsEmpty)
        {
            // A single key is the interval [key, key + "\0").
            var next = new byte[key.Length + 1];
            key.CopyTo(next);
            return next;
        }

        return rangeEnd.Length == 1 && rangeEnd[0] == 0 ? null : rangeEnd.ToArray();
    }

    private static List<(byte[] From, byte[]? To)> Merge(IEnumerable<(byte[] From, byte[]? To)> intervals)
    {
        var sorted = intervals.Where(i => i.To is null || Compare(i.To, i.From) > 0).OrderBy(i => i.From, ByteComparer.Instance).ToList();
        var merged = new List<(byte[] From, byte[]? To)>();
        foreach (var interval in sorted)
        {
            if (merged.Count > 0 && (merged[^1].To is null || Compare(interval.From, merged[^1].To!) <= 0))
            {
                var last = merged[^1];
                merged[^1] = (last.From, last.To is null || interval.To is null ? null : Max(last.To, interval.To));
            }
            else
            {
                merged.Add(interval);
            }
        }

        return merged;
    }

    private static byte[] Max(byte[] a, byte[] b) => Compare(a, b) >= 0 ? a : b;

    private static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
