using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Watch;
using Google.Protobuf;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests.Watch;

public sealed class WatchHubTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static (LockedWatchStore Store, WatchHub Hub) NewHub(int queueEvents = WatchHub.DefaultQueueEvents, int revisionsPerStep = WatchHub.DefaultRevisionsPerStep)
    {
        var store = new LockedWatchStore();
        var hub = new WatchHub(store, queueEvents, revisionsPerStep);
        store.Hub = hub;
        return (store, hub);
    }

    private static long Put(LockedWatchStore store, string key, string value) =>
        store.Write((s, events) => s.Put(new PutRequest { Key = B(key), Value = B(value) }, events));

    private static long Delete(LockedWatchStore store, string key) =>
        store.Write((s, events) => s.DeleteRange(new DeleteRangeRequest { Key = B(key) }, events));

    private static List<WatchDelivery> Drain(Watcher watcher)
    {
        var all = new List<WatchDelivery>();
        while (watcher.TryRead(out var d))
        {
            all.Add(d);
        }

        return all;
    }

    private static void SyncAll(WatchHub hub)
    {
        while (hub.SyncOnce())
        {
        }
    }

    [Fact]
    public void A_watcher_from_now_gets_later_changes_of_its_key_only()
    {
        var (store, hub) = NewHub();
        Put(store, "a", "0");
        var (watcher, revision) = hub.Register(new WatchOptions(B("a"), ByteString.Empty, 0));
        Assert.Equal(2, revision);

        Put(store, "b", "1");
        long r1 = Put(store, "a", "1");
        long r2 = Delete(store, "a");

        var got = Drain(watcher);
        Assert.Equal([r1, r2], got.Select(d => d.Revision));
        Assert.Equal(Event.Types.EventType.Put, got[0].Events.Single().Type);
        Assert.Equal("1", S(got[0].Events[0].Kv.Value));
        Assert.Equal(Event.Types.EventType.Delete, got[1].Events.Single().Type);
        Assert.All(got.SelectMany(d => d.Events), e => Assert.Null(e.PrevKv));
    }

    [Fact]
    public void Prefix_and_open_ended_ranges_filters_and_prev_kv_are_honoured()
    {
        var (store, hub) = NewHub();
        var (prefix, _) = hub.Register(new WatchOptions(B("p/"), Prefix("p/"), 0, PrevKv: true));
        var (fromKey, _) = hub.Register(new WatchOptions(B("q"), AllFrom, 0, NoDelete: true));
        var (deletesOnly, _) = hub.Register(new WatchOptions(B("p/"), Prefix("p/"), 0, NoPut: true));

        Put(store, "p/1", "a");
        Put(store, "p/1", "b");
        Put(store, "pz", "x");
        Put(store, "z", "x");
        Delete(store, "p/1");
        Delete(store, "z");

        var p = Drain(prefix).SelectMany(d => d.Events).ToList();
        Assert.Equal(["p/1", "p/1", "p/1"], p.Select(e => S(e.Kv.Key)));
        Assert.Equal("a", S(p[1].PrevKv.Value));
        Assert.Equal("b", S(p[2].PrevKv.Value));

        var f = Drain(fromKey).SelectMany(d => d.Events).ToList();
        Assert.Equal(["z"], f.Select(e => S(e.Kv.Key)));
        Assert.Equal(Event.Types.EventType.Put, f.Single().Type);

        var d = Drain(deletesOnly).SelectMany(d => d.Events).ToList();
        Assert.Equal(Event.Types.EventType.Delete, d.Single().Type);
        Assert.Null(d.Single().PrevKv);
    }

    [Fact]
    public void All_events_of_one_txn_arrive_in_one_delivery()
    {
        var (store, hub) = NewHub();
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), Prefix("k"), 0));
        long revision = store.Write((s, events) => s.Txn(new TxnRequest { Success = { OpPut("k1", "a"), OpPut("k2", "b"), OpPut("x", "c") } }, events));

        var delivery = Assert.Single(Drain(watcher));
        Assert.Equal(revision, delivery.Revision);
        Assert.Equal(["k1", "k2"], delivery.Events.Select(e => S(e.Kv.Key)));
    }

    [Fact]
    public void A_watcher_from_the_past_gets_history_then_live_events_with_no_gap_or_duplicate()
    {
        var (store, hub) = NewHub(revisionsPerStep: 3);
        for (int i = 0; i < 10; i++)
        {
            Put(store, "k", $"v{i}");
        }

        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 4));
        Assert.Equal(1, hub.UnsyncedCount);
        hub.SyncOnce();
        Put(store, "k", "v10"); // published while the watcher is still catching up: history must deliver it once
        SyncAll(hub);
        Assert.Equal(0, hub.UnsyncedCount);
        Put(store, "k", "v11");

        var revisions = Drain(watcher).Select(d => d.Revision).ToList();
        Assert.Equal(Enumerable.Range(4, 10).Select(r => (long)r), revisions);
    }

    [Fact]
    public void A_revision_applied_before_the_history_read_but_published_after_it_is_delivered_once()
    {
        var (store, hub) = NewHub();
        Put(store, "k", "1"); // 2
        var publishLate = store.WriteUnpublished((s, events) => s.Put(new PutRequest { Key = B("k"), Value = B("2") }, events)); // 3
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 2));
        SyncAll(hub); // history already holds 3: the watcher joins the live set past it
        publishLate();
        Put(store, "k", "3"); // 4

        Assert.Equal([2L, 3L, 4L], Drain(watcher).Select(d => d.Revision));
    }

    [Fact]
    public async Task Concurrent_writes_while_catching_up_give_every_revision_exactly_once_in_order()
    {
        var (store, hub) = NewHub(queueEvents: 8, revisionsPerStep: 5);
        for (int i = 0; i < 50; i++)
        {
            Put(store, $"k{i % 7}", "seed");
        }

        var (watcher, _) = hub.Register(new WatchOptions(B("k"), Prefix("k"), 2));
        using var stop = new CancellationTokenSource();
        var syncer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var work = hub.SyncWorkAsync(stop.Token);
                SyncAll(hub);
                try
                {
                    await work.WaitAsync(TimeSpan.FromMilliseconds(50), stop.Token);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                Put(store, $"k{i % 7}", $"v{i}");
            }
        });

        var seen = new List<long>();
        using var deadline = new CancellationTokenSource(Deadline);
        while (seen.Count < 2049)
        {
            var d = await watcher.ReadAsync(deadline.Token);
            Assert.NotNull(d);
            seen.Add(d.Revision);
        }

        await writer;
        await stop.CancelAsync();
        await syncer;
        Assert.Equal(Enumerable.Range(2, 2049).Select(r => (long)r), seen);
    }

    [Fact]
    public void A_stalled_consumer_holds_a_bounded_queue_and_later_receives_every_event()
    {
        var (store, hub) = NewHub(queueEvents: 16, revisionsPerStep: 10);
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 0));
        var (other, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 0));
        var written = new List<long>();
        for (int i = 0; i < 500; i++)
        {
            written.Add(Put(store, "k", $"v{i}"));
            Assert.True(other.TryRead(out _), "a stalled watcher must not hold up another");
            SyncAll(hub);
        }

        Assert.Equal(1, hub.UnsyncedCount);
        var got = new List<long>();
        while (true)
        {
            var batch = Drain(watcher);
            Assert.True(batch.Count <= 16, $"queue held {batch.Count} deliveries, capacity 16");
            if (batch.Count == 0)
            {
                break;
            }

            got.AddRange(batch.Select(d => d.Revision));
            SyncAll(hub);
        }

        Assert.Equal(written, got);
        Assert.Equal(0, hub.UnsyncedCount);
    }

    [Fact]
    public void A_start_revision_below_the_compact_revision_gets_a_compaction_notice_and_ends()
    {
        var (store, hub) = NewHub();
        for (int i = 0; i < 5; i++)
        {
            Put(store, "k", $"v{i}");
        }

        store.Write((s, _) => s.Compact(new CompactionRequest { Revision = 4 }));
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 3));
        SyncAll(hub);

        var notice = Assert.Single(Drain(watcher));
        Assert.True(notice.IsCompacted);
        Assert.Equal(4, notice.CompactRevision);
        Assert.True(watcher.IsClosed);
        Assert.Equal(0, hub.Count);

        // etcd serves a watch from the compact revision itself: the state at that revision is kept.
        var (atCompaction, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 4));
        SyncAll(hub);
        Assert.Equal([4L, 5L, 6L], Drain(atCompaction).Select(d => d.Revision));
    }

    [Fact]
    public void A_watcher_that_falls_behind_while_history_is_compacted_gets_the_notice()
    {
        var (store, hub) = NewHub(queueEvents: 2);
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 0));
        for (int i = 0; i < 10; i++)
        {
            Put(store, "k", $"v{i}");
        }

        long compactTo = store.Read(s => s.Revision);
        store.Write((s, _) => s.Compact(new CompactionRequest { Revision = compactTo }));
        var before = Drain(watcher);
        SyncAll(hub);
        var after = Drain(watcher);

        Assert.Equal([2L, 3L], before.Select(d => d.Revision));
        Assert.True(Assert.Single(after).IsCompacted);
    }

    [Fact]
    public void A_future_start_revision_waits_for_it()
    {
        var (store, hub) = NewHub();
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 4));
        Put(store, "k", "2");
        Put(store, "k", "3");
        Put(store, "k", "4");
        Put(store, "k", "5");
        Assert.Equal([4L, 5L], Drain(watcher).Select(d => d.Revision));
    }

    [Fact]
    public async Task Cancel_ends_the_consumer_after_what_was_queued()
    {
        var (store, hub) = NewHub();
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 0));
        var (next, _) = hub.Register(new WatchOptions(B("x"), ByteString.Empty, 0));
        Assert.NotEqual(watcher.Id, next.Id);
        Put(store, "k", "1");

        Assert.True(hub.Cancel(watcher.Id));
        Assert.False(hub.Cancel(watcher.Id));
        Put(store, "k", "2");
        using var deadline = new CancellationTokenSource(Deadline);
        Assert.Equal(2, (await watcher.ReadAsync(deadline.Token))!.Revision);
        Assert.Null(await watcher.ReadAsync(deadline.Token));
    }

    [Fact]
    public void Progress_is_reported_only_when_every_watcher_of_the_group_has_everything()
    {
        var (store, hub) = NewHub();
        var (a, _) = hub.Register(new WatchOptions(B("a"), ByteString.Empty, 0));
        var (b, _) = hub.Register(new WatchOptions(B("b"), ByteString.Empty, 0));
        Put(store, "a", "1");
        long last = Put(store, "x", "1");
        Assert.Null(hub.ProgressRevision([a, b]));
        Assert.Equal(last, hub.ProgressRevision([b]));
        Drain(a);
        Assert.Equal(last, hub.ProgressRevision([a, b]));

        var (past, _) = hub.Register(new WatchOptions(B("a"), ByteString.Empty, 1));
        Assert.Null(hub.ProgressRevision([past]));
        SyncAll(hub);
        Drain(past);
        Assert.Equal(last, hub.ProgressRevision([past]));
    }

    [Fact]
    public void After_a_snapshot_replaces_the_store_watchers_catch_up_from_the_new_history()
    {
        var (store, hub) = NewHub();
        var (watcher, _) = hub.Register(new WatchOptions(B("k"), ByteString.Empty, 0));
        Put(store, "k", "1"); // 2

        // A newer state arrives by snapshot: revisions 3 and 4 were never published here.
        var newer = new MvccStore();
        newer.Put("k", "1");
        newer.Put("k", "2");
        newer.Put("k", "3");
        store.Replace(newer);
        SyncAll(hub);
        Put(store, "k", "4");

        Assert.Equal([2L, 3L, 4L, 5L], Drain(watcher).Select(d => d.Revision));
    }
}
