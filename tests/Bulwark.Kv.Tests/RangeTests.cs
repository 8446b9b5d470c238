using Bulwark.Api.Etcdserverpb;
using static Bulwark.Kv.Tests.Kv;
using SortOrder = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortOrder;
using SortTarget = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortTarget;

namespace Bulwark.Kv.Tests;

public sealed class RangeTests
{
    // Revisions: a=2, b=3, c=4, ab=5, b updated at 6 (version 2), d=7.
    private static MvccStore Sample()
    {
        var s = new MvccStore();
        s.Put("a", "3");
        s.Put("b", "1");
        s.Put("c", "5");
        s.Put("ab", "4");
        s.Put("b", "2");
        s.Put("d", "0");
        return s;
    }

    [Fact]
    public void Fresh_store_is_at_revision_one_and_first_put_gets_two()
    {
        var s = new MvccStore();
        Assert.Equal(1, s.Revision);
        Assert.Equal(2, s.Put("k", "v").Header.Revision);
        Assert.Equal(2, s.Revision);
    }

    [Fact]
    public void Single_key_returns_all_fields()
    {
        var s = Sample();
        var kv = s.Get("b")!;
        Assert.Equal("b", S(kv.Key));
        Assert.Equal("2", S(kv.Value));
        Assert.Equal(3, kv.CreateRevision);
        Assert.Equal(6, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.Equal(0, kv.Lease);
        var r = s.Range(new RangeRequest { Key = B("b") });
        Assert.Equal(1, r.Count);
        Assert.False(r.More);
        Assert.Equal(7, r.Header.Revision);
        Assert.Null(s.Get("zz"));
    }

    [Fact]
    public void Interval_is_half_open()
    {
        var r = Sample().Range(new RangeRequest { Key = B("ab"), RangeEnd = B("c") });
        Assert.Equal(["ab", "b"], r.Keys());
        Assert.Equal(2, r.Count);
    }

    [Fact]
    public void Prefix_uses_key_plus_one()
    {
        var r = Sample().Range(new RangeRequest { Key = B("a"), RangeEnd = Prefix("a") });
        Assert.Equal(["a", "ab"], r.Keys());
    }

    [Fact]
    public void Zero_byte_range_end_means_all_keys_from_key()
    {
        var s = Sample();
        Assert.Equal(["b", "c", "d"], s.Range(new RangeRequest { Key = B("b"), RangeEnd = AllFrom }).Keys());
        var all = s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom });
        Assert.Equal(["a", "ab", "b", "c", "d"], all.Keys());
    }

    [Fact]
    public void Range_end_before_key_is_empty()
    {
        var r = Sample().Range(new RangeRequest { Key = B("c"), RangeEnd = B("a") });
        Assert.Empty(r.Kvs);
        Assert.Equal(0, r.Count);
    }

    [Fact]
    public void Limit_sets_more_and_count_is_the_full_count()
    {
        var r = Sample().Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Limit = 2 });
        Assert.Equal(["a", "ab"], r.Keys());
        Assert.True(r.More);
        Assert.Equal(5, r.Count);

        var exact = Sample().Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Limit = 5 });
        Assert.False(exact.More);
        Assert.Equal(5, exact.Kvs.Count);
    }

    [Fact]
    public void Keys_only_drops_values_and_count_only_drops_kvs()
    {
        var s = Sample();
        var keysOnly = s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, KeysOnly = true });
        Assert.Equal(5, keysOnly.Kvs.Count);
        Assert.All(keysOnly.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal(6, keysOnly.Kvs[2].ModRevision);

        var countOnly = s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, CountOnly = true, Limit = 1 });
        Assert.Empty(countOnly.Kvs);
        Assert.Equal(5, countOnly.Count);
        Assert.False(countOnly.More);
    }

    [Theory]
    [InlineData(SortTarget.Key, SortOrder.Descend, "d,c,b,ab,a")]
    [InlineData(SortTarget.Key, SortOrder.Ascend, "a,ab,b,c,d")]
    [InlineData(SortTarget.Value, SortOrder.Ascend, "d,b,a,ab,c")]
    [InlineData(SortTarget.Value, SortOrder.Descend, "c,ab,a,b,d")]
    [InlineData(SortTarget.Value, SortOrder.None, "d,b,a,ab,c")] // a non-key target sorts ascending by default
    [InlineData(SortTarget.Create, SortOrder.Descend, "d,ab,c,b,a")]
    [InlineData(SortTarget.Mod, SortOrder.Ascend, "a,c,ab,b,d")]
    [InlineData(SortTarget.Mod, SortOrder.Descend, "d,b,ab,c,a")]
    [InlineData(SortTarget.Version, SortOrder.Descend, "b,a,ab,c,d")] // ties keep key order
    [InlineData(SortTarget.Version, SortOrder.Ascend, "a,ab,c,d,b")]
    public void Sorts_by_every_target_and_order(SortTarget target, SortOrder order, string expected)
    {
        var r = Sample().Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, SortTarget = target, SortOrder = order });
        Assert.Equal(expected, string.Join(",", r.Keys()));
    }

    [Fact]
    public void Limit_applies_after_sorting()
    {
        var r = Sample().Range(new RangeRequest
        {
            Key = AllFrom, RangeEnd = AllFrom, SortTarget = SortTarget.Mod, SortOrder = SortOrder.Descend, Limit = 2,
        });
        Assert.Equal(["d", "b"], r.Keys());
        Assert.True(r.More);
        Assert.Equal(5, r.Count);
    }

    [Fact]
    public void Mod_and_create_revision_filters()
    {
        var s = Sample();
        RangeRequest All() => new() { Key = AllFrom, RangeEnd = AllFrom };

        var minMod = All();
        minMod.MinModRevision = 5;
        Assert.Equal(["ab", "b", "d"], s.Range(minMod).Keys());

        var maxMod = All();
        maxMod.MaxModRevision = 4;
        Assert.Equal(["a", "c"], s.Range(maxMod).Keys());

        var minCreate = All();
        minCreate.MinCreateRevision = 4;
        Assert.Equal(["ab", "c", "d"], s.Range(minCreate).Keys());

        var maxCreate = All();
        maxCreate.MaxCreateRevision = 3;
        maxCreate.Limit = 1;
        var r = s.Range(maxCreate);
        Assert.Equal(["a"], r.Keys());
        Assert.True(r.More); // "b" also matches
        Assert.Equal(5, r.Count); // count ignores filters, as in etcd

        var both = All();
        both.MinModRevision = 3;
        both.MaxModRevision = 5;
        Assert.Equal(["ab", "c"], s.Range(both).Keys());
    }

    [Fact]
    public void Historical_reads_see_the_past()
    {
        var s = Sample();
        s.Delete("a");
        Assert.Null(s.Get("a"));
        Assert.Equal("3", S(s.Get("a", revision: 7)!.Value));
        Assert.Equal("1", S(s.Get("b", revision: 5)!.Value));
        Assert.Equal(1, s.Get("b", revision: 5)!.Version);
        Assert.Null(s.Get("b", revision: 2));
        var past = s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Revision = 4 });
        Assert.Equal(["a", "b", "c"], past.Keys());
        Assert.Equal(8, past.Header.Revision); // the header carries the current revision
        Assert.Empty(s.Range(new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Revision = 1 }).Kvs);
    }

    [Fact]
    public void Deleted_and_recreated_key_restarts_version_and_create_revision()
    {
        var s = new MvccStore();
        s.Put("k", "1");
        s.Put("k", "2");
        s.Delete("k");
        s.Put("k", "3");
        var kv = s.Get("k")!;
        Assert.Equal(1, kv.Version);
        Assert.Equal(5, kv.CreateRevision);
        Assert.Equal(2, s.Get("k", 3)!.Version);
        Assert.Null(s.Get("k", 4));
    }
}
