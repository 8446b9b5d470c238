using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class WriteTests
{
    [Fact]
    public void Put_returns_prev_kv_only_when_asked_and_the_key_existed()
    {
        var s = new MvccStore();
        Assert.Null(s.Put("k", "1", prevKv: true).PrevKv);
        var second = s.Put("k", "2", prevKv: true);
        Assert.Equal("1", S(second.PrevKv.Value));
        Assert.Equal(2, second.PrevKv.ModRevision);
        Assert.Null(s.Put("k", "3").PrevKv);
    }

    [Fact]
    public void Ignore_value_keeps_the_value_and_ignore_lease_keeps_the_lease()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 7, TTL = 10 });
        s.Put("k", "v", lease: 7);
        s.Put(new PutRequest { Key = B("k"), IgnoreValue = true, Lease = 0 });
        var kv = s.Get("k")!;
        Assert.Equal("v", S(kv.Value));
        Assert.Equal(0, kv.Lease);
        Assert.Equal(2, kv.Version);

        s.Put("k", "v", lease: 7);
        s.Put(new PutRequest { Key = B("k"), Value = B("w"), IgnoreLease = true });
        kv = s.Get("k")!;
        Assert.Equal("w", S(kv.Value));
        Assert.Equal(7, kv.Lease);
    }

    [Fact]
    public void Delete_range_counts_returns_prev_kvs_and_moves_revision_once()
    {
        var s = new MvccStore();
        s.Put("a", "1");
        s.Put("b", "2");
        s.Put("c", "3");
        var r = s.Delete("a", B("c"), prevKv: true);
        Assert.Equal(2, r.Deleted);
        Assert.Equal(["a", "b"], r.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(5, r.Header.Revision);
        Assert.Equal(5, s.Revision);
        Assert.Null(s.Get("a"));
        Assert.NotNull(s.Get("c"));
    }

    [Fact]
    public void Deleting_nothing_does_not_move_the_revision()
    {
        var s = new MvccStore();
        s.Put("a", "1");
        var r = s.Delete("zz");
        Assert.Equal(0, r.Deleted);
        Assert.Equal(2, r.Header.Revision);
        Assert.Equal(2, s.Revision);
        s.Delete("a");
        Assert.Equal(0, s.Delete("a").Deleted);
        Assert.Equal(3, s.Revision);
    }

    [Fact]
    public void Put_and_delete_produce_watch_events_with_prev_kv()
    {
        var s = new MvccStore();
        var events = new List<Event>();
        s.Put(new PutRequest { Key = B("k"), Value = B("1") }, events);
        s.Put(new PutRequest { Key = B("k"), Value = B("2") }, events);
        s.DeleteRange(new DeleteRangeRequest { Key = B("k") }, events);
        Assert.Equal(3, events.Count);
        Assert.Equal(Event.Types.EventType.Put, events[0].Type);
        Assert.Null(events[0].PrevKv);
        Assert.Equal(1, events[0].Kv.Version);
        Assert.Equal("1", S(events[1].PrevKv.Value));
        Assert.Equal(3, events[1].Kv.ModRevision);
        Assert.Equal(Event.Types.EventType.Delete, events[2].Type);
        Assert.Equal(4, events[2].Kv.ModRevision);
        Assert.Equal("k", S(events[2].Kv.Key));
        Assert.Equal("2", S(events[2].PrevKv.Value));
    }
}
