using Bulwark.Api.Etcdserverpb;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

/// <summary><see cref="MvccStore.LiveDataBytes"/> always equals the key and value bytes of the live keys.</summary>
public sealed class LiveDataBytesTests
{
    private static long Recount(MvccStore store) =>
        store.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom }).Kvs.Sum(kv => (long)kv.Key.Length + kv.Value.Length);

    [Fact]
    public void Puts_overwrites_and_deletes_move_the_count_by_key_and_value_bytes()
    {
        var s = new MvccStore();
        Assert.Equal(0, s.LiveDataBytes);
        s.Put("key", "value");
        Assert.Equal(8, s.LiveDataBytes);
        s.Put("key", "v");
        Assert.Equal(4, s.LiveDataBytes);
        s.Put("other", "12345678");
        Assert.Equal(17, s.LiveDataBytes);
        s.Delete("key");
        Assert.Equal(13, s.LiveDataBytes);
        s.Delete("nothing");
        Assert.Equal(13, s.LiveDataBytes);
    }

    [Fact]
    public void A_failed_txn_leaves_the_count_unchanged()
    {
        var s = new MvccStore();
        s.Put("a", "1");
        var before = s.LiveDataBytes;
        var txn = new TxnRequest();
        txn.Success.Add(OpPut("b", "22"));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("c"), Value = B("3"), Lease = 99 } });
        Assert.ThrowsAny<Exception>(() => s.Txn(txn));
        Assert.Equal(before, s.LiveDataBytes);
        Assert.Equal(Recount(s), s.LiveDataBytes);
    }

    [Fact]
    public void A_seeded_random_workload_with_compaction_and_restore_keeps_the_count_exact()
    {
        var random = new Random(42);
        var s = new MvccStore();
        for (var i = 0; i < 2000; i++)
        {
            var key = $"k{random.Next(200)}";
            if (random.Next(4) == 0)
            {
                s.Delete(key);
            }
            else
            {
                s.Put(key, new string('x', random.Next(0, 50)));
            }

            if (i % 500 == 499)
            {
                s.Compact(new CompactionRequest { Revision = s.Revision - 10 });
            }
        }

        Assert.Equal(Recount(s), s.LiveDataBytes);
        using var buffer = new MemoryStream();
        s.WriteSnapshot(buffer);
        buffer.Position = 0;
        var restored = MvccStore.ReadSnapshot(buffer);
        Assert.Equal(s.LiveDataBytes, restored.LiveDataBytes);
    }
}
