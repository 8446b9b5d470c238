using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Google.Protobuf;
using Grpc.Core;
using static Bulwark.Kv.Tests.Kv;
using SortOrder = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortOrder;
using SortTarget = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortTarget;

namespace Bulwark.Kv.Tests;

/// <summary>
/// Random operations against the store and against <see cref="NaiveMvccModel"/> (a full copy of the
/// key space per revision), comparing every response, error, event list and revision.
/// </summary>
public sealed class ModelTests
{
    private static readonly string[] KeyUniverse = ["a", "aa", "ab", "b", "ba", "bb", "c", "ca", "d", "e", "f", "g"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Store_matches_naive_model(int seed)
    {
        var rng = new Random(seed);
        var sm = new KvStateMachine();
        var model = new NaiveMvccModel();
        var liveEvents = new List<Event>();
        int okWrites = 0, refused = 0, txnWithChanges = 0, nestedTxns = 0, rangeHits = 0;
        for (int step = 0; step < 600; step++)
        {
            int pick = rng.Next(100);
            string what;
            if (pick < 30)
            {
                var req = RandomRange(rng, model);
                what = $"range {req}";
                Check(what, () => model.Range(req), () => sm.Store.Range(req));
                rangeHits += req.Revision > 0 && req.Revision >= model.CompactRevision && req.Revision <= model.Revision && model.Range(req).Kvs.Count > 0 ? 1 : 0;
            }
            else if (pick < 97)
            {
                var cmd = pick switch
                {
                    < 55 => new RaftCommand { Put = RandomPut(rng, model) },
                    < 63 => new RaftCommand { DeleteRange = RandomDelete(rng) },
                    < 90 => new RaftCommand { Txn = RandomTxn(rng, model, depth: 0) },
                    < 92 => new RaftCommand { Compaction = new CompactionRequest { Revision = model.CompactRevision + rng.Next(-1, 4) } },
                    < 95 => new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = rng.Next(1, 5), TTL = 10 } },
                    _ => new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = rng.Next(1, 6) } },
                };
                cmd.RequestId = (ulong)step;
                what = $"apply {cmd}";
                var expectedEvents = new List<Event>();
                IMessage? expected = null;
                KvException? expectedError = null;
                try
                {
                    expected = model.Apply(cmd, expectedEvents);
                }
                catch (KvException e)
                {
                    expectedError = e;
                }

                var actual = sm.Apply(cmd.ToByteArray());
                liveEvents.AddRange(actual.Events);
                okWrites += actual.Succeeded && actual.Events.Count > 0 ? 1 : 0;
                refused += actual.Succeeded ? 0 : 1;
                txnWithChanges += cmd.Txn is not null && actual.Events.Count > 1 ? 1 : 0;
                nestedTxns += actual.Response is TxnResponse tr && tr.Responses.Any(r => r.ResponseTxn is not null) ? 1 : 0;
                Assert.True(expectedError?.Message == actual.Error?.Message, $"{what}: expected error '{expectedError?.Message}', got '{actual.Error?.Message}'");
                Assert.Equal(expectedError?.StatusCode, actual.Error?.StatusCode);
                Assert.True(Equals(expected, actual.Response), $"{what}:\n expected {expected}\n actual   {actual.Response}");
                Assert.True(expectedEvents.SequenceEqual(actual.Events), $"{what}: events differ\n expected {string.Join(";", expectedEvents)}\n actual   {string.Join(";", actual.Events)}");
                Assert.Equal(model.Revision, actual.Revision);
            }
            else
            {
                what = "snapshot round trip";
                using var ms = new MemoryStream();
                sm.WriteSnapshot(ms);
                ms.Position = 0;
                sm.RestoreSnapshot(ms);
            }

            Assert.Equal(model.Revision, sm.Store.Revision);
            Assert.Equal(model.CompactRevision, sm.Store.CompactRevision);
            Assert.Equal(model.LiveKeyCount, sm.Store.LiveKeyCount);
        }

        // The run must have exercised the interesting paths, not just errors.
        Assert.True(okWrites > 100, $"only {okWrites} successful writes");
        Assert.True(refused > 10, $"only {refused} refused commands");
        Assert.True(txnWithChanges > 5, $"only {txnWithChanges} multi-change txns");
        Assert.True(nestedTxns > 0, "no nested txn ran");
        Assert.True(rangeHits > 5, $"only {rangeHits} historical reads returned data");

        // History replay for watchers gives the live events of every retained revision (replay orders by key within a revision).
        static List<Event> Ordered(IEnumerable<Event> events) =>
            events.OrderBy(e => e.Kv.ModRevision).ThenBy(e => e.Kv.Key.ToStringUtf8(), StringComparer.Ordinal).ToList();
        var replayed = sm.Store.ReadEvents(AllFrom, AllFrom, model.CompactRevision + 1, model.Revision);
        Assert.Equal(Ordered(liveEvents.Where(e => e.Kv.ModRevision > model.CompactRevision)), Ordered(replayed));

        // Every retained revision reads the same in both.
        for (long rev = Math.Max(1, model.CompactRevision); rev <= model.Revision; rev++)
        {
            var all = new RangeRequest { Key = AllFrom, RangeEnd = AllFrom, Revision = rev };
            Assert.Equal(model.Range(all), sm.Store.Range(all));
        }
    }

    private static void Check(string what, Func<IMessage> expected, Func<IMessage> actual)
    {
        IMessage? e = null, a = null;
        KvException? ee = null, ae = null;
        try
        {
            e = expected();
        }
        catch (KvException x)
        {
            ee = x;
        }

        try
        {
            a = actual();
        }
        catch (KvException x)
        {
            ae = x;
        }

        Assert.True(ee?.Message == ae?.Message, $"{what}: expected error '{ee?.Message}', got '{ae?.Message}'");
        Assert.True(Equals(e, a), $"{what}:\n expected {e}\n actual   {a}");
    }

    private static string RandomKey(Random rng) => KeyUniverse[rng.Next(KeyUniverse.Length)];

    private static (ByteString Key, ByteString End) RandomSpan(Random rng)
    {
        string k = RandomKey(rng);
        return rng.Next(5) switch
        {
            0 => (B(k), ByteString.Empty),
            1 => (B(k), B(RandomKey(rng))),
            2 => (B(k), Prefix(k)),
            3 => (B(k), AllFrom),
            _ => (AllFrom, AllFrom),
        };
    }

    private static RangeRequest RandomRange(Random rng, NaiveMvccModel model)
    {
        var (key, end) = RandomSpan(rng);
        var r = new RangeRequest { Key = key, RangeEnd = end };
        if (rng.Next(2) == 0)
        {
            r.Revision = rng.NextInt64(Math.Max(0, model.CompactRevision - 1), model.Revision + 2);
        }

        if (rng.Next(3) == 0)
        {
            r.Limit = rng.Next(0, 4);
        }

        if (rng.Next(3) == 0)
        {
            r.SortOrder = (SortOrder)rng.Next(3);
            r.SortTarget = (SortTarget)rng.Next(5);
        }

        r.KeysOnly = rng.Next(5) == 0;
        r.CountOnly = rng.Next(8) == 0;
        if (rng.Next(4) == 0)
        {
            long span = model.Revision + 1;
            r.MinModRevision = rng.NextInt64(0, span);
            r.MaxModRevision = rng.Next(2) == 0 ? 0 : rng.NextInt64(0, span);
            r.MinCreateRevision = rng.Next(2) == 0 ? 0 : rng.NextInt64(0, span);
            r.MaxCreateRevision = rng.Next(2) == 0 ? 0 : rng.NextInt64(0, span);
        }

        return r;
    }

    private static PutRequest RandomPut(Random rng, NaiveMvccModel model, string? key = null)
    {
        var p = new PutRequest { Key = B(key ?? RandomKey(rng)), PrevKv = rng.Next(2) == 0 };
        int mode = rng.Next(10);
        if (mode == 0)
        {
            p.IgnoreValue = true;
        }
        else
        {
            p.Value = B($"v{rng.Next(20)}");
        }

        if (mode == 1)
        {
            p.IgnoreLease = true;
        }
        else if (rng.Next(4) == 0)
        {
            p.Lease = rng.Next(1, 5); // sometimes not granted
        }

        _ = model;
        return p;
    }

    private static DeleteRangeRequest RandomDelete(Random rng)
    {
        var (key, end) = RandomSpan(rng);
        return new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = rng.Next(2) == 0 };
    }

    private static TxnRequest RandomTxn(Random rng, NaiveMvccModel model, int depth)
    {
        var txn = new TxnRequest();
        int compares = rng.Next(3);
        for (int i = 0; i < compares; i++)
        {
            var (key, end) = rng.Next(4) == 0 ? RandomSpan(rng) : (B(RandomKey(rng)), ByteString.Empty);
            var c = Cmp(S(key), (Compare.Types.CompareTarget)rng.Next(5), (Compare.Types.CompareResult)rng.Next(4), rng.Next(0, (int)model.Revision + 2), $"v{rng.Next(20)}");
            c.Key = key;
            c.RangeEnd = end;
            txn.Compare.Add(c);
        }

        // Writes on one path use distinct keys, so the txn is valid apart from deliberate runtime errors.
        var keys = KeyUniverse.OrderBy(_ => rng.Next()).ToList();
        FillOps(txn.Success, rng, model, keys, depth);
        keys = KeyUniverse.OrderBy(_ => rng.Next()).ToList();
        FillOps(txn.Failure, rng, model, keys, depth);
        return txn;
    }

    private static void FillOps(Google.Protobuf.Collections.RepeatedField<RequestOp> ops, Random rng, NaiveMvccModel model, List<string> keys, int depth)
    {
        int count = rng.Next(4);
        for (int i = 0; i < count && keys.Count > 0; i++)
        {
            string key = keys[^1];
            keys.RemoveAt(keys.Count - 1);
            switch (rng.Next(depth == 0 ? 8 : 7))
            {
                case 0:
                case 1:
                case 2:
                    ops.Add(new RequestOp { RequestPut = RandomPut(rng, model, key) });
                    break;
                case 3:
                    ops.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B(key), PrevKv = rng.Next(2) == 0 } });
                    break;
                case 4:
                case 5:
                case 6:
                    var range = RandomRange(rng, model);
                    ops.Add(new RequestOp { RequestRange = range });
                    break;
                default:
                    var nested = new TxnRequest();
                    var c = Cmp(RandomKey(rng), (Compare.Types.CompareTarget)rng.Next(5), (Compare.Types.CompareResult)rng.Next(4), rng.Next(0, 3), $"v{rng.Next(20)}");
                    nested.Compare.Add(c);
                    int share = keys.Count / 2;
                    FillOps(nested.Success, rng, model, keys.GetRange(0, share), depth + 1);
                    FillOps(nested.Failure, rng, model, keys.GetRange(0, share), depth + 1);
                    keys.RemoveRange(0, share);
                    ops.Add(new RequestOp { RequestTxn = nested });
                    break;
            }
        }
    }
}
