using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class CompactionTests
{
    [Fact]
    public void Reads_at_and_after_the_compact_revision_still_work()
    {
        var s = new MvccStore();
        s.Put("a", "1"); // 2
        s.Put("a", "2"); // 3
        s.Put("b", "1"); // 4
        s.Put("a", "3"); // 5
        var r = s.Compact(new CompactionRequest { Revision = 4 });
        Assert.Equal(5, r.Header.Revision);
        Assert.Equal(4, s.CompactRevision);
        Assert.Equal(5, s.Revision);
        Assert.Equal("2", S(s.Get("a", 4)!.Value));
        Assert.Equal("3", S(s.Get("a", 5)!.Value));
        Assert.Equal("1", S(s.Get("b", 4)!.Value));
        Assert.Equal(KvErrors.CompactedMessage, Assert.Throws<KvException>(() => s.Get("a", 3)).Message);
    }

    [Fact]
    public void Keys_deleted_before_the_compact_revision_leave_the_index()
    {
        var s = new MvccStore();
        for (int i = 0; i < 300; i++)
        {
            s.Put($"k{i:D3}", "v");
        }

        s.Delete("k", Prefix("k"));
        s.Put("k150", "again");
        Assert.Equal(300, s.IndexedKeyCount);
        s.Compact(new CompactionRequest { Revision = s.Revision });
        Assert.Equal(1, s.IndexedKeyCount);
        var all = s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom });
        Assert.Equal(["k150"], all.Keys());
        Assert.Equal(1, all.Kvs[0].Version);
    }

    [Fact]
    public void Tombstone_after_the_compact_revision_is_kept()
    {
        var s = new MvccStore();
        s.Put("a", "1"); // 2
        s.Put("x", "1"); // 3
        s.Delete("a");   // 4
        s.Compact(new CompactionRequest { Revision = 3 });
        Assert.Equal("1", S(s.Get("a", 3)!.Value));
        Assert.Null(s.Get("a", 4));
        Assert.Equal(2, s.IndexedKeyCount);
    }

    [Fact]
    public void Compaction_keeps_version_and_create_revision_of_live_keys()
    {
        var s = new MvccStore();
        s.Put("a", "1");
        s.Put("a", "2");
        s.Put("a", "3");
        s.Compact(new CompactionRequest { Revision = s.Revision });
        var kv = s.Get("a")!;
        Assert.Equal(3, kv.Version);
        Assert.Equal(2, kv.CreateRevision);
        s.Put("a", "4");
        Assert.Equal(4, s.Get("a")!.Version);
    }
}
