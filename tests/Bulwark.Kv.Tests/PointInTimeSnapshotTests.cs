using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Snapshots;
using Google.Protobuf;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

/// <summary>
/// A snapshot written in chunks while writes go on (<see cref="PointInTimeSnapshot"/>) has exactly the bytes of a
/// synchronous snapshot of the store at its start, and the compaction it defers changes nothing anyone can observe.
/// The interleaving is driven deterministically: random commands run between the writer's chunks.
/// </summary>
public sealed class PointInTimeSnapshotTests
{
    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (int seed = 1; seed <= 40; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Bytes_equal_a_synchronous_snapshot_at_the_start_whatever_is_applied_while_it_is_written(int seed)
    {
        var rng = new Random(seed);
        var generator = new CommandGenerator(rng);
        var history = new List<RaftCommand>();
        var live = new KvStateMachine { CollectEvents = false };
        var twin = new KvStateMachine { CollectEvents = false }; // the same commands, never snapshotted in the background

        void Apply(RaftCommand command)
        {
            history.Add(command);
            var a = live.Apply(command);
            var b = twin.Apply(command);
            Assert.Equal(b.Error?.Message, a.Error?.Message);
            Assert.Equal(b.Response, a.Response);
        }

        int before = rng.Next(0, 500);
        for (int i = 0; i < before; i++)
        {
            Apply(generator.Next(live.Store));
        }

        // Sometimes compact right before, so the snapshot starts on a store with compaction to carry out.
        if (rng.Next(3) == 0 && live.Store.Revision > live.Store.CompactRevision + 1)
        {
            Apply(new RaftCommand { Compaction = new CompactionRequest { Revision = rng.NextInt64(live.Store.CompactRevision + 1, live.Store.Revision + 1) } });
        }

        var storeLock = new Lock();
        PointInTimeSnapshot snapshot;
        lock (storeLock)
        {
            snapshot = live.Store.BeginPointInTimeSnapshot();
        }

        int startedAt = history.Count;
        int keysAtStart = live.Store.IndexedKeyCount;
        Assert.Equal(live.Store.Revision, snapshot.Revision);
        Assert.Throws<InvalidOperationException>(() => live.Store.BeginPointInTimeSnapshot());

        int chunks = 0;
        int chunkKeys = rng.Next(1, 24);
        using var written = new MemoryStream();
        snapshot.WriteTo(written, storeLock, betweenChunks: () =>
        {
            chunks++;
            for (int n = rng.Next(0, 2 * chunkKeys + 1); n > 0; n--)
            {
                Apply(generator.Next(live.Store));
            }

            // While compaction is deferred, everything observable equals the twin that compacted at once (checked now and
            // then: the check reads both whole stores).
            if (rng.Next(20) == 0)
            {
                AssertSameObservableState(twin.Store, live.Store, rng);
            }
        }, chunkKeys);

        // The oracle: replay the commands up to the start on a fresh store and snapshot it synchronously.
        var replayed = new KvStateMachine { CollectEvents = false };
        foreach (var command in history.Take(startedAt))
        {
            replayed.Apply(command);
        }

        Assert.Equal(SnapshotBytes(replayed.Store), written.ToArray());
        var restored = MvccStore.ReadSnapshot(new MemoryStream(written.ToArray()));
        Assert.Equal(replayed.Store.HashKV(0), restored.HashKV(0));

        // Ending it carries out the deferred compaction; the store then equals the twin to the last byte and key.
        live.Store.EndPointInTimeSnapshot(snapshot);
        Assert.False(live.Store.HistoryCompactionDeferred);
        Assert.Equal(twin.Store.IndexedKeyCount, live.Store.IndexedKeyCount);
        AssertSameObservableState(twin.Store, live.Store, rng);
        for (int i = 0; i < 50; i++)
        {
            Apply(generator.Next(live.Store));
        }

        Assert.Equal(SnapshotBytes(twin.Store), SnapshotBytes(live.Store));
        Assert.True(chunks > 0 || keysAtStart <= chunkKeys, $"{keysAtStart} keys in chunks of {chunkKeys} were written in more than one chunk");
    }

    [Fact]
    public void Compaction_while_a_snapshot_is_open_only_moves_the_compact_revision_until_it_ends()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Put("gone", "x");
        store.Delete("gone");
        var storeLock = new Lock();
        var snapshot = store.BeginPointInTimeSnapshot();
        long keysBefore = store.IndexedKeyCount;
        store.Compact(new CompactionRequest { Revision = store.Revision });

        Assert.True(store.HistoryCompactionDeferred);
        Assert.Equal(keysBefore, store.IndexedKeyCount);
        Assert.Throws<Bulwark.Kv.Errors.KvException>(() => store.Range(new RangeRequest { Key = B("a"), Revision = 2 }));

        using var written = new MemoryStream();
        snapshot.WriteTo(written, storeLock);
        store.EndPointInTimeSnapshot(snapshot);
        Assert.False(store.HistoryCompactionDeferred);
        Assert.Equal(1, store.IndexedKeyCount);
        Assert.Throws<InvalidOperationException>(() => store.EndPointInTimeSnapshot(snapshot));
        Assert.Throws<InvalidOperationException>(() => snapshot.WriteTo(new MemoryStream(), storeLock));
    }

    private static byte[] SnapshotBytes(MvccStore store)
    {
        using var stream = new MemoryStream();
        store.WriteSnapshot(stream);
        return stream.ToArray();
    }

    private static void AssertSameObservableState(MvccStore expected, MvccStore actual, Random rng)
    {
        Assert.Equal(expected.Revision, actual.Revision);
        Assert.Equal(expected.CompactRevision, actual.CompactRevision);
        Assert.Equal(SnapshotBytes(expected), SnapshotBytes(actual));
        Assert.Equal(expected.HashKV(0), actual.HashKV(0));
        long revision = rng.NextInt64(Math.Max(1, expected.CompactRevision), expected.Revision + 1);
        Assert.Equal(expected.HashKV(revision), actual.HashKV(revision));
        var all = new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Revision = revision };
        Assert.Equal(expected.Range(all), actual.Range(all));
        Assert.Equal(
            expected.ReadEvents(AllFrom, AllFrom, revision, expected.Revision),
            actual.ReadEvents(AllFrom, AllFrom, revision, actual.Revision));
        Assert.Equal(expected.LeaseGrants(), actual.LeaseGrants());
    }

    /// <summary>
    /// Puts (new keys that split index leaves, history growth of a few hot keys, leases), deletes of keys and ranges,
    /// transactions (some failing half-way, which rolls back an inserted key), lease grants and revokes, compactions.
    /// </summary>
    private sealed class CommandGenerator(Random rng)
    {
        private int nextFresh;

        public RaftCommand Next(MvccStore store)
        {
            int pick = rng.Next(100);
            return pick switch
            {
                < 40 => new RaftCommand { Put = Put(store) },
                < 50 => new RaftCommand { DeleteRange = Delete() },
                < 70 => new RaftCommand { Txn = Txn(store) },
                < 78 => new RaftCommand { Txn = FailingTxn() },
                < 84 => new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = rng.Next(0, 3) == 0 ? 0 : rng.Next(1, 12), TTL = rng.Next(1, 100) } },
                < 89 => new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = LeaseOf(store) } },
                _ => new RaftCommand { Compaction = new CompactionRequest { Revision = CompactTarget(store) } },
            };
        }

        private string Key() => rng.Next(4) switch
        {
            0 => $"hot{rng.Next(3)}",
            1 => $"new{nextFresh++:D5}",
            _ => $"k{rng.Next(400):D3}",
        };

        private long LeaseOf(MvccStore store)
        {
            var ids = store.LeaseIds();
            return ids.Count == 0 || rng.Next(6) == 0 ? rng.Next(1, 12) : ids[rng.Next(ids.Count)];
        }

        private PutRequest Put(MvccStore store)
        {
            var value = new byte[rng.Next(0, 24)];
            rng.NextBytes(value);
            return new PutRequest
            {
                Key = B(Key()),
                Value = ByteString.CopyFrom(value),
                Lease = rng.Next(4) == 0 ? LeaseOf(store) : 0,
            };
        }

        private DeleteRangeRequest Delete()
        {
            if (rng.Next(3) == 0)
            {
                int from = rng.Next(400);
                return new DeleteRangeRequest { Key = B($"k{from:D3}"), RangeEnd = B($"k{from + rng.Next(1, 30):D3}") };
            }

            return new DeleteRangeRequest { Key = B(Key()) };
        }

        private TxnRequest Txn(MvccStore store)
        {
            var key = Key();
            var txn = new TxnRequest();
            txn.Compare.Add(Cmp(key, Bulwark.Api.Etcdserverpb.Compare.Types.CompareTarget.Version, Bulwark.Api.Etcdserverpb.Compare.Types.CompareResult.Greater, rng.Next(0, 3)));
            txn.Success.Add(new RequestOp { RequestPut = Put(store) });
            txn.Success.Add(OpDelete(Key()));
            txn.Failure.Add(new RequestOp { RequestPut = Put(store) });
            return txn;
        }

        /// <summary>Inserts a key, then fails (ignore_value on a key that does not exist): the store rolls back.</summary>
        private TxnRequest FailingTxn()
        {
            var txn = new TxnRequest();
            txn.Success.Add(OpPut($"new{nextFresh++:D5}", "doomed"));
            txn.Success.Add(OpPut($"hot{rng.Next(3)}", "x"));
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B($"missing{rng.Next(1000)}"), IgnoreValue = true } });
            return txn;
        }

        private long CompactTarget(MvccStore store) =>
            rng.Next(8) == 0 ? store.CompactRevision : rng.NextInt64(store.CompactRevision + 1, store.Revision + 1);
    }
}
