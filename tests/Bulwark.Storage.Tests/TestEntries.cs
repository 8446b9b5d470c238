using Bulwark.Consensus;

namespace Bulwark.Storage.Tests;

internal static class TestEntries
{
    /// <summary>An entry whose data is derived from (index, term, salt) so any mix-up shows.</summary>
    public static Entry Make(ulong index, ulong term, int size = 10, int salt = 0)
    {
        var data = new byte[size];
        for (var i = 0; i < size; i++)
        {
            data[i] = (byte)(index * 31 + term * 7 + (ulong)i + (ulong)salt);
        }

        return new Entry(term, index, EntryType.Normal, data);
    }

    public static Entry[] Range(ulong from, ulong to, ulong term, int size = 10, int salt = 0)
    {
        var list = new List<Entry>();
        for (var i = from; i <= to; i++)
        {
            list.Add(Make(i, term, size, salt));
        }

        return [.. list];
    }

    public static bool SameEntry(Entry a, Entry b) =>
        a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && a.Data.Span.SequenceEqual(b.Data.Span);

    public static void AssertSame(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(SameEntry(expected[i], actual[i]), $"entry #{i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
