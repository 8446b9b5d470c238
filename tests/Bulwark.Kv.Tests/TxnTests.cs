using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Grpc.Core;
using static Bulwark.Kv.Tests.Kv;
using Result = Bulwark.Api.Etcdserverpb.Compare.Types.CompareResult;
using Target = Bulwark.Api.Etcdserverpb.Compare.Types.CompareTarget;

namespace Bulwark.Kv.Tests;

public sealed class TxnTests
{
    private static MvccStore Sample()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 9, TTL = 5 });
        s.Put("a", "x");          // rev 2
        s.Put("b", "y", lease: 9); // rev 3
        s.Put("a", "z");          // rev 4, version 2
        return s;
    }

    [Theory]
    [InlineData("a", Target.Value, Result.Equal, 0, "z", true)]
    [InlineData("a", Target.Value, Result.Greater, 0, "y", true)]
    [InlineData("a", Target.Value, Result.Less, 0, "y", false)]
    [InlineData("a", Target.Value, Result.NotEqual, 0, "z", false)]
    [InlineData("a", Target.Version, Result.Equal, 2, null, true)]
    [InlineData("a", Target.Version, Result.Greater, 1, null, true)]
    [InlineData("a", Target.Create, Result.Equal, 2, null, true)]
    [InlineData("a", Target.Mod, Result.Equal, 4, null, true)]
    [InlineData("a", Target.Mod, Result.Less, 4, null, false)]
    [InlineData("b", Target.Lease, Result.Equal, 9, null, true)]
    [InlineData("a", Target.Lease, Result.NotEqual, 9, null, true)]
    [InlineData("missing", Target.Version, Result.Equal, 0, null, true)]
    [InlineData("missing", Target.Create, Result.Equal, 0, null, true)]
    [InlineData("missing", Target.Value, Result.Equal, 0, "", false)]
    [InlineData("missing", Target.Value, Result.NotEqual, 0, "", false)]
    public void Compares_on_every_target_and_result(string key, Target target, Result result, long number, string? value, bool expected)
    {
        var s = Sample();
        var r = s.Txn(new TxnRequest { Compare = { Cmp(key, target, result, number, value) } });
        Assert.Equal(expected, r.Succeeded);
    }

    [Fact]
    public void Compare_over_a_range_must_hold_for_every_key()
    {
        var s = Sample();
        var allPositive = Cmp("a", Target.Version, Result.Greater, 0);
        allPositive.RangeEnd = B("c");
        Assert.True(s.Txn(new TxnRequest { Compare = { allPositive } }).Succeeded);

        var allVersionTwo = Cmp("a", Target.Version, Result.Equal, 2);
        allVersionTwo.RangeEnd = B("c");
        Assert.False(s.Txn(new TxnRequest { Compare = { allVersionTwo } }).Succeeded);
    }

    [Fact]
    public void Success_and_failure_branches_apply_at_one_revision()
    {
        var s = Sample();
        var r = s.Txn(new TxnRequest
        {
            Compare = { Cmp("a", Target.Value, Result.Equal, value: "z") },
            Success = { OpPut("c", "1"), OpDelete("b"), OpRange("c") },
            Failure = { OpPut("f", "1") },
        });
        Assert.True(r.Succeeded);
        Assert.Equal(5, r.Header.Revision);
        Assert.Equal(5, s.Revision);
        Assert.Equal(5, r.Responses[0].ResponsePut.Header.Revision);
        Assert.Equal(1, r.Responses[1].ResponseDeleteRange.Deleted);
        Assert.Equal("1", S(r.Responses[2].ResponseRange.Kvs[0].Value)); // reads see the txn's own writes
        Assert.Equal(5, s.Get("c")!.ModRevision);
        Assert.Null(s.Get("f"));

        var f = s.Txn(new TxnRequest { Compare = { Cmp("a", Target.Value, Result.Equal, value: "no") }, Success = { OpPut("g", "1") }, Failure = { OpPut("f", "2") } });
        Assert.False(f.Succeeded);
        Assert.Null(s.Get("g"));
        Assert.Equal("2", S(s.Get("f")!.Value));
    }

    [Fact]
    public void Read_only_txn_does_not_move_the_revision()
    {
        var s = Sample();
        var r = s.Txn(new TxnRequest { Success = { OpRange("a"), OpDelete("nothing") }, Failure = { OpPut("x", "1") } });
        Assert.True(r.Succeeded);
        Assert.Equal(4, r.Header.Revision);
        Assert.Equal(4, s.Revision);
        Assert.Equal("z", S(r.Responses[0].ResponseRange.Kvs[0].Value));
    }

    [Fact]
    public void Nested_txn_compares_see_the_state_before_the_outer_txn()
    {
        var s = Sample();
        var inner = new TxnRequest
        {
            // "c" does not exist before the outer txn, even though the outer txn creates it first.
            Compare = { Cmp("c", Target.Version, Result.Equal, 0) },
            Success = { OpPut("d", "inner-then") },
            Failure = { OpPut("d", "inner-else") },
        };
        var r = s.Txn(new TxnRequest { Success = { OpPut("c", "1"), OpTxn(inner) } });
        Assert.True(r.Succeeded);
        Assert.True(r.Responses[1].ResponseTxn.Succeeded);
        Assert.Equal("inner-then", S(s.Get("d")!.Value));
        Assert.Equal(5, s.Get("d")!.ModRevision);
        Assert.Equal(5, s.Get("c")!.ModRevision);
    }

    [Fact]
    public void Failed_operation_rolls_back_everything_including_nested_writes()
    {
        var s = Sample();
        var before = s.ContentHash();
        var events = new List<Event>();
        var inner = new TxnRequest { Success = { OpPut("n", "1"), OpDelete("b") } };
        var bad = new TxnRequest
        {
            Success =
            {
                OpPut("new", "1"),
                OpPut("a", "changed"),
                OpTxn(inner),
                new RequestOp { RequestPut = new PutRequest { Key = B("q"), Lease = 12345 } },
            },
        };
        var e = Assert.Throws<KvException>(() => s.Txn(bad, events));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(KvErrors.LeaseNotFoundMessage, e.Message);
        Assert.Equal(4, s.Revision);
        Assert.Equal(before, s.ContentHash());
        Assert.Empty(events);
        Assert.Null(s.Get("new"));
        Assert.Equal("z", S(s.Get("a")!.Value));
        Assert.Equal(9, s.Get("b")!.Lease);
        Assert.True(s.TryGetLease(9, out var lease));
        Assert.Single(lease!.Keys);

        // The store keeps working normally afterwards.
        Assert.Equal(5, s.Put("new", "ok").Header.Revision);
    }

    [Fact]
    public void Range_inside_txn_at_a_future_revision_fails_and_rolls_back()
    {
        var s = Sample();
        var before = s.ContentHash();
        var e = Assert.Throws<KvException>(() => s.Txn(new TxnRequest { Success = { OpPut("c", "1"), OpRange("c", revision: 5) } }));
        Assert.Equal(StatusCode.OutOfRange, e.StatusCode);
        Assert.Equal(KvErrors.FutureRevisionMessage, e.Message);
        Assert.Equal(before, s.ContentHash());
    }

    [Fact]
    public void Overlapping_deletes_in_one_txn_are_allowed()
    {
        var s = Sample();
        var r = s.Txn(new TxnRequest { Success = { OpDelete("a", B("c")), OpDelete("b") } });
        Assert.Equal(2, r.Responses[0].ResponseDeleteRange.Deleted);
        Assert.Equal(0, r.Responses[1].ResponseDeleteRange.Deleted);
        Assert.Equal(5, s.Revision);
    }

    [Fact]
    public void Same_key_in_then_and_else_of_a_nested_txn_is_allowed()
    {
        var s = Sample();
        var inner = new TxnRequest { Success = { OpPut("k", "1") }, Failure = { OpPut("k", "2") } };
        Assert.True(s.Txn(new TxnRequest { Success = { OpTxn(inner) } }).Succeeded);
        Assert.Equal("1", S(s.Get("k")!.Value));
    }

    [Fact]
    public void Txn_emits_events_in_operation_order()
    {
        var s = Sample();
        var events = new List<Event>();
        s.Txn(new TxnRequest { Success = { OpPut("c", "1"), OpDelete("a") } }, events);
        Assert.Equal(2, events.Count);
        Assert.Equal("c", S(events[0].Kv.Key));
        Assert.Equal(Event.Types.EventType.Delete, events[1].Type);
        Assert.All(events, ev => Assert.Equal(5, ev.Kv.ModRevision));
    }
}
