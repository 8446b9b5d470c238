using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class EventReplayTests
{
    [Fact]
    public void Replays_history_of_a_range_between_revisions()
    {
        var s = new MvccStore();
        s.Put("a", "1"); // 2
        s.Put("b", "1"); // 3
        s.Put("a", "2"); // 4
        s.Delete("a");   // 5
        s.Put("c", "1"); // 6

        var events = s.ReadEvents(B("a"), B("c"), 3, 6);
        Assert.Equal([3L, 4L, 5L], events.Select(e => e.Kv.ModRevision));
        Assert.Equal("b", S(events[0].Kv.Key));
        Assert.Null(events[0].PrevKv);
        Assert.Equal("1", S(events[1].PrevKv.Value));
        Assert.Equal(Event.Types.EventType.Delete, events[2].Type);
        Assert.Equal("2", S(events[2].PrevKv.Value));

        Assert.Single(s.ReadEvents(B("c"), Google.Protobuf.ByteString.Empty, 1, 6));
    }

    [Fact]
    public void Compacted_and_future_revisions_are_refused()
    {
        var s = new MvccStore();
        s.Put("a", "1");
        s.Put("a", "2");
        s.Compact(new CompactionRequest { Revision = 2 });
        Assert.Equal(KvErrors.CompactedMessage, Assert.Throws<KvException>(() => s.ReadEvents(B("a"), AllFrom, 1, 3)).Message);
        // As etcd's watch: from the compact revision itself is served (etcdctl watch --rev=C after compaction C).
        Assert.Equal([2L, 3L], s.ReadEvents(B("a"), AllFrom, 2, 3).Select(e => e.Kv.ModRevision));
        Assert.Equal(KvErrors.FutureRevisionMessage, Assert.Throws<KvException>(() => s.ReadEvents(B("a"), AllFrom, 3, 4)).Message);
        var after = s.ReadEvents(B("a"), AllFrom, 3, 3);
        Assert.Equal("1", S(Assert.Single(after).PrevKv.Value)); // the state kept at the compact revision is still the prev
    }

    [Fact]
    public void State_machine_can_skip_building_events()
    {
        var sm = new KvStateMachine { CollectEvents = false };
        var r = sm.Apply(new Bulwark.Api.RaftCmd.RaftCommand { Put = new PutRequest { Key = B("k"), Value = B("v") } });
        Assert.True(r.Succeeded);
        Assert.Empty(r.Events);
        Assert.Equal(2, r.Revision);
    }
}
