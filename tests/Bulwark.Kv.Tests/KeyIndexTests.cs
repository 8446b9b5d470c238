using System.Text;
using Bulwark.Kv.Index;

namespace Bulwark.Kv.Tests;

public sealed class KeyIndexTests
{
    private static KeyRecord Rec(string key) => new(Encoding.UTF8.GetBytes(key), new RevisionEntry { ModRevision = 1, Version = 1 });

    private static List<string> All(KeyIndex index)
    {
        var keys = new List<string>();
        var c = index.First();
        while (c.TryNext(out var r))
        {
            keys.Add(Encoding.UTF8.GetString(r.Key));
        }

        return keys;
    }

    [Fact]
    public void Matches_a_sorted_set_under_random_inserts_removes_and_seeks()
    {
        var rng = new Random(1234);
        var index = new KeyIndex();
        var model = new SortedSet<string>(StringComparer.Ordinal);
        for (int step = 0; step < 30_000; step++)
        {
            string key = rng.Next(3000).ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            int action = rng.Next(10);
            if (action < 6)
            {
                if (model.Add(key))
                {
                    index.Insert(Rec(key));
                }
                else
                {
                    Assert.NotNull(index.Find(Encoding.UTF8.GetBytes(key)));
                }
            }
            else if (action < 9)
            {
                Assert.Equal(model.Remove(key), index.Remove(Encoding.UTF8.GetBytes(key)));
            }
            else
            {
                var cursor = index.Seek(Encoding.UTF8.GetBytes(key));
                var expected = model.GetViewBetween(key, "9999~").Take(5).ToList();
                var actual = new List<string>();
                while (actual.Count < 5 && cursor.TryNext(out var r))
                {
                    actual.Add(Encoding.UTF8.GetString(r.Key));
                }

                Assert.Equal(expected, actual);
            }

            Assert.Equal(model.Count, index.Count);
        }

        Assert.Equal(model.ToList(), All(index));
    }

    [Fact]
    public void Ascending_and_descending_loads_then_full_removal()
    {
        var index = new KeyIndex();
        for (int i = 0; i < 10_000; i++)
        {
            index.Insert(Rec(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)));
        }

        for (int i = 20_000; i > 10_000; i--)
        {
            index.Insert(Rec(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)));
        }

        var keys = All(index);
        Assert.Equal(20_000, keys.Count);
        Assert.True(keys.SequenceEqual(keys.Order(StringComparer.Ordinal)));
        foreach (var k in keys)
        {
            Assert.True(index.Remove(Encoding.UTF8.GetBytes(k)));
        }

        Assert.Equal(0, index.Count);
        Assert.Empty(All(index));
        index.Insert(Rec("again"));
        Assert.Equal(["again"], All(index));
    }

    [Fact]
    public void Duplicate_insert_is_an_invariant_violation()
    {
        var index = new KeyIndex();
        index.Insert(Rec("a"));
        Assert.Throws<InvalidOperationException>(() => index.Insert(Rec("a")));
    }
}

public sealed class KeyIndexBinaryKeyTests
{
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    [Fact]
    public void Byte_order_holds_for_long_shared_prefixes_short_keys_and_zero_bytes()
    {
        var rng = new Random(99);
        byte[] alphabet = [0, 1, 0x7F, 0x80, 0xFF];
        var index = new KeyIndex();
        var model = new SortedSet<byte[]>(new ByteOrder());
        for (int step = 0; step < 20_000; step++)
        {
            // Keys of 1..20 bytes, often sharing the same first 8-12 bytes.
            var key = new byte[rng.Next(1, 21)];
            for (int i = 0; i < key.Length; i++)
            {
                key[i] = i < 10 && rng.Next(4) != 0 ? (byte)0xAB : alphabet[rng.Next(alphabet.Length)];
            }

            if (rng.Next(4) != 0)
            {
                if (model.Add(key))
                {
                    index.Insert(new KeyRecord(key, new RevisionEntry { ModRevision = 1, Version = 1 }));
                }
            }
            else
            {
                model.TryGetValue(key, out var stored);
                Assert.Equal(model.Remove(key), index.Remove(key));
                Assert.True(stored is null || index.Find(stored) is null);
            }
        }

        var cursor = index.First();
        var actual = new List<byte[]>();
        while (cursor.TryNext(out var record))
        {
            actual.Add(record.Key);
        }

        Assert.Equal(model.Count, actual.Count);
        Assert.True(model.SequenceEqual(actual, EqualityComparer<byte[]>.Create((a, b) => a.AsSpan().SequenceEqual(b), a => a.Length)));
        foreach (var key in model)
        {
            Assert.Same(key, index.Find(key)!.Key);
        }
    }
}
