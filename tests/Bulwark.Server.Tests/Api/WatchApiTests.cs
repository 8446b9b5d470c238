using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>etcdserverpb.Watch over real gRPC on a 3-node cluster: etcd's create/cancel/progress semantics, history, slow clients.</summary>
public sealed class WatchApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static ByteString PrefixEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++;
        return ByteString.CopyFrom(bytes);
    }

    private static WatchRequest Create(string key, ByteString? rangeEnd = null, long start = 0, long id = 0, bool prevKv = false,
        bool fragment = false, bool progressNotify = false) => new()
    {
        CreateRequest = new WatchCreateRequest
        {
            Key = B(key),
            RangeEnd = rangeEnd ?? ByteString.Empty,
            StartRevision = start,
            WatchId = id,
            PrevKv = prevKv,
            Fragment = fragment,
            ProgressNotify = progressNotify,
        },
    };

    private static Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call) => WatchCalls.NextAsync(call);

    [Fact]
    public async Task A_follower_serves_a_watch_with_history_then_live_events_and_etcd_ids()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var kv = cluster.Kv(leader);
        var first = await kv.PutAsync(new PutRequest { Key = B("w/a"), Value = B("1") });
        await kv.PutAsync(new PutRequest { Key = B("w/a"), Value = B("2") });
        await cluster.Nodes.WaitForConvergenceAsync(leader);

        using var call = cluster.Watch(follower).Watch();
        await call.RequestStream.WriteAsync(Create("w/", PrefixEnd("w/"), start: first.Header.Revision, prevKv: true));
        var created = await NextAsync(call);
        Assert.True(created.Created);
        Assert.False(created.Canceled);
        Assert.Equal(0, created.WatchId); // etcd numbers automatic ids from 0 on each stream
        Assert.Equal(cluster.Nodes.Node(follower).MemberId, created.Header.MemberId);

        var history1 = await NextAsync(call);
        var history2 = await NextAsync(call);
        Assert.Equal(first.Header.Revision, history1.Events.Single().Kv.ModRevision);
        Assert.Equal("2", history2.Events.Single().Kv.Value.ToStringUtf8());
        Assert.Equal("1", history2.Events.Single().PrevKv.Value.ToStringUtf8());
        Assert.Equal(history2.Events[0].Kv.ModRevision, history2.Header.Revision);

        var deleted = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("w/a") });
        var live = await NextAsync(call);
        var ev = live.Events.Single();
        Assert.Equal(Event.Types.EventType.Delete, ev.Type);
        Assert.Equal(deleted.Header.Revision, ev.Kv.ModRevision);
        Assert.Equal("2", ev.PrevKv.Value.ToStringUtf8());

        // A second watcher on the same stream, with a client-chosen id; a duplicate id and an empty range are refused.
        await call.RequestStream.WriteAsync(Create("x", id: 42));
        Assert.Equal(42, (await NextAsync(call)).WatchId);
        await call.RequestStream.WriteAsync(Create("y", id: 42));
        var duplicate = await NextAsync(call);
        Assert.True(duplicate.Created && duplicate.Canceled);
        Assert.Equal(-1, duplicate.WatchId);
        Assert.Equal("mvcc: duplicate watch ID provided on the WatchStream", duplicate.CancelReason);
        await call.RequestStream.WriteAsync(Create("b", B("a")));
        var empty = await NextAsync(call);
        Assert.Equal(-1, empty.WatchId);
        Assert.Equal("mvcc: watcher range is empty", empty.CancelReason);
        await call.RequestStream.WriteAsync(Create("z"));
        Assert.Equal(1, (await NextAsync(call)).WatchId);

        await kv.PutAsync(new PutRequest { Key = B("x"), Value = B("x1") });
        var toX = await NextAsync(call);
        Assert.Equal(42, toX.WatchId);
        Assert.Null(toX.Events.Single().PrevKv); // not asked for

        // Cancel: answered with canceled, and no more events for that watcher.
        await call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 42 } });
        var canceled = await NextAsync(call);
        Assert.True(canceled.Canceled);
        Assert.Equal(42, canceled.WatchId);
        await kv.PutAsync(new PutRequest { Key = B("x"), Value = B("x2") });
        var afterCancel = await kv.PutAsync(new PutRequest { Key = B("z"), Value = B("z1") });
        var next = await NextAsync(call);
        Assert.Equal(1, next.WatchId);
        Assert.Equal(afterCancel.Header.Revision, next.Header.Revision);

        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task A_compacted_start_revision_gets_the_compact_revision_and_is_canceled_and_progress_reports_the_revision()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        for (int i = 0; i < 5; i++)
        {
            await kv.PutAsync(new PutRequest { Key = B("c"), Value = B($"{i}") });
        }

        var last = await kv.PutAsync(new PutRequest { Key = B("c"), Value = B("last") });
        await kv.CompactAsync(new CompactionRequest { Revision = last.Header.Revision - 1 });

        using var call = cluster.Watch(leader).Watch();
        await call.RequestStream.WriteAsync(Create("c", start: 2));
        var created = await NextAsync(call);
        Assert.True(created.Created);
        var compacted = await NextAsync(call);
        Assert.Equal(created.WatchId, compacted.WatchId);
        Assert.True(compacted.Canceled);
        Assert.Equal(last.Header.Revision - 1, compacted.CompactRevision);

        await call.RequestStream.WriteAsync(Create("c", start: last.Header.Revision));
        await NextAsync(call); // created
        Assert.Equal("last", (await NextAsync(call)).Events.Single().Kv.Value.ToStringUtf8());

        var other = await kv.PutAsync(new PutRequest { Key = B("elsewhere"), Value = B("1") });
        await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var progress = await NextAsync(call);
        Assert.Equal(-1, progress.WatchId);
        Assert.Empty(progress.Events);
        Assert.True(progress.Header.Revision >= other.Header.Revision, $"progress at {progress.Header.Revision}, last write {other.Header.Revision}");
    }

    [Fact]
    public async Task A_large_txn_is_split_into_fragments_when_asked_and_comes_whole_otherwise()
    {
        const int limit = 64 * 1024;
        await using var cluster = new ApiCluster(adjust: o => o with { Limits = o.Limits with { MaxRequestBytes = limit } });
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        using var fragmented = cluster.Watch(leader).Watch();
        using var whole = cluster.Watch(leader).Watch();
        for (int i = 0; i < 16; i++)
        {
            await cluster.Kv(leader).PutAsync(new PutRequest { Key = B($"f/{i:x}"), Value = ByteString.CopyFrom(new byte[limit / 10]) });
        }

        // One delete of 16 keys whose previous values (prev_kv) add up to 1.6x the request limit.
        await fragmented.RequestStream.WriteAsync(Create("f/", PrefixEnd("f/"), fragment: true, prevKv: true));
        await whole.RequestStream.WriteAsync(Create("f/", PrefixEnd("f/"), prevKv: true));
        await NextAsync(fragmented);
        await NextAsync(whole);
        var done = await cluster.Kv(leader).DeleteRangeAsync(new DeleteRangeRequest { Key = B("f/"), RangeEnd = PrefixEnd("f/") });
        var pieces = new List<WatchResponse>();
        do
        {
            pieces.Add(await NextAsync(fragmented));
        }
        while (pieces[^1].Fragment);

        Assert.True(pieces.Count > 1, "the events were not split");
        Assert.All(pieces, p => Assert.True(p.CalculateSize() <= limit, $"a fragment of {p.CalculateSize()} bytes"));
        Assert.All(pieces, p => Assert.Equal(done.Header.Revision, p.Header.Revision));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"f/{i:x}"), pieces.SelectMany(p => p.Events).Select(e => e.Kv.Key.ToStringUtf8()));
        var one = await NextAsync(whole);
        Assert.False(one.Fragment);
        Assert.Equal(16, one.Events.Count);
    }

    [Fact]
    public async Task A_stalled_client_does_not_hold_up_writes_and_later_receives_every_event()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        using var call = cluster.Watch(leader).Watch();
        await call.RequestStream.WriteAsync(Create("s/", PrefixEnd("s/")));
        await NextAsync(call);

        // The client reads nothing while 8 MiB of events are written: far more than the HTTP/2 windows, the stream's
        // response channel and the watcher's queue hold, so the watcher must fall back to catching up from history.
        var value = ByteString.CopyFrom(new byte[16 * 1024]);
        var revisions = new List<long>();
        bool fellBehind = false;
        for (int i = 0; i < 512; i++)
        {
            var put = await kv.PutAsync(new PutRequest { Key = B($"s/{i % 16}"), Value = value });
            revisions.Add(put.Header.Revision);
            fellBehind |= cluster.Nodes.Node(leader).Watches.UnsyncedCount > 0;
        }

        Assert.True(fellBehind, "the stalled watcher never left the live set: its events were all held in memory");
        var received = new List<long>();
        while (received.Count < revisions.Count)
        {
            var response = await NextAsync(call);
            received.AddRange(response.Events.Select(e => e.Kv.ModRevision));
        }

        Assert.Equal(revisions, received);
    }
}
