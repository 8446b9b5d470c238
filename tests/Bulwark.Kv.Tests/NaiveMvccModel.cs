using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Google.Protobuf;
using SortOrder = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortOrder;
using SortTarget = Bulwark.Api.Etcdserverpb.RangeRequest.Types.SortTarget;

namespace Bulwark.Kv.Tests;

/// <summary>
/// The MVCC semantics written as simply as possible: the whole key space is copied for every
/// revision, reads pick the copy, a txn works on a scratch copy that is dropped on error.
/// Slow and obviously right; the reference for <see cref="ModelTests"/>.
/// </summary>
internal sealed class NaiveMvccModel
{
    private sealed record Kv(string Key, string Value, long Create, long Mod, long Version, long Lease);

    // states[r] is the key space at revision r (index 0 unused).
    private readonly List<SortedDictionary<string, Kv>> states = [new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
    private readonly HashSet<long> leases = [];

    public long Revision => states.Count - 1;

    public long CompactRevision { get; private set; }

    public long LiveKeyCount => Current.Count;

    private SortedDictionary<string, Kv> Current => states[^1];

    public RangeResponse Range(RangeRequest r)
    {
        if (r.Key.IsEmpty)
        {
            throw KvErrors.EmptyKey();
        }

        return RangeAt(r, Current, Revision, Revision, pendingRevision: null);
    }

    public IMessage Apply(RaftCommand cmd, List<Event> events)
    {
        switch (cmd.RequestCase)
        {
            case RaftCommand.RequestOneofCase.Put:
                return Write(events, (work, ev) => PutIn(cmd.Put, work, ev));
            case RaftCommand.RequestOneofCase.DeleteRange:
                return Write(events, (work, ev) => DeleteIn(cmd.DeleteRange, work, ev));
            case RaftCommand.RequestOneofCase.Txn:
                Bulwark.Kv.Validation.RequestValidator.ValidateTxn(cmd.Txn, int.MaxValue);
                return Write(events, (work, ev) => TxnIn(cmd.Txn, work, ev));
            case RaftCommand.RequestOneofCase.Compaction:
                long rev = cmd.Compaction.Revision;
                if (rev <= CompactRevision)
                {
                    throw KvErrors.Compacted();
                }

                if (rev > Revision)
                {
                    throw KvErrors.FutureRevision();
                }

                CompactRevision = rev;
                return new CompactionResponse { Header = new ResponseHeader { Revision = Revision } };
            case RaftCommand.RequestOneofCase.LeaseGrant:
                if (!leases.Add(cmd.LeaseGrant.ID))
                {
                    throw KvErrors.LeaseExists();
                }

                return new LeaseGrantResponse { Header = new ResponseHeader { Revision = Revision }, ID = cmd.LeaseGrant.ID, TTL = cmd.LeaseGrant.TTL };
            case RaftCommand.RequestOneofCase.LeaseRevoke:
                long id = cmd.LeaseRevoke.ID;
                if (!leases.Contains(id))
                {
                    throw KvErrors.LeaseNotFound();
                }

                Write(events, (work, ev) =>
                {
                    foreach (var kv in work.Values.Where(kv => kv.Lease == id).ToList())
                    {
                        DeleteKey(kv.Key, work, ev);
                    }

                    return null!;
                });
                leases.Remove(id);
                return new LeaseRevokeResponse { Header = new ResponseHeader { Revision = Revision } };
            default:
                throw KvErrors.EmptyCommand();
        }
    }

    private sealed class Pending(long baseRevision)
    {
        public long BaseRevision { get; } = baseRevision;

        public bool Changed { get; set; }

        public List<Event> Events { get; } = [];

        public long Visible => Changed ? BaseRevision + 1 : BaseRevision;
    }

    private IMessage Write(List<Event> events, Func<SortedDictionary<string, Kv>, Pending, IMessage> body)
    {
        var work = new SortedDictionary<string, Kv>(Current, StringComparer.Ordinal);
        var pending = new Pending(Revision);
        var response = body(work, pending);
        if (pending.Changed)
        {
            states.Add(work);
        }

        events.AddRange(pending.Events);
        return response;
    }

    private PutResponse PutIn(PutRequest p, SortedDictionary<string, Kv> work, Pending pending)
    {
        Bulwark.Kv.Validation.RequestValidator.ValidatePut(p);
        string key = p.Key.ToStringUtf8();
        work.TryGetValue(key, out var old);
        if (p.Lease != 0 && !leases.Contains(p.Lease))
        {
            throw KvErrors.LeaseNotFound();
        }

        if ((p.IgnoreValue || p.IgnoreLease) && old is null)
        {
            throw KvErrors.KeyNotFound();
        }

        long rev = pending.BaseRevision + 1;
        var kv = new Kv(
            key,
            p.IgnoreValue ? old!.Value : p.Value.ToStringUtf8(),
            old?.Create ?? rev,
            rev,
            (old?.Version ?? 0) + 1,
            p.IgnoreLease ? old!.Lease : p.Lease);
        work[key] = kv;
        pending.Changed = true;
        pending.Events.Add(new Event { Type = Event.Types.EventType.Put, Kv = ToProto(kv), PrevKv = old is null ? null : ToProto(old) });
        return new PutResponse { Header = new ResponseHeader { Revision = rev }, PrevKv = p.PrevKv && old is not null ? ToProto(old) : null };
    }

    private static void DeleteKey(string key, SortedDictionary<string, Kv> work, Pending pending)
    {
        var old = work[key];
        work.Remove(key);
        pending.Changed = true;
        pending.Events.Add(new Event
        {
            Type = Event.Types.EventType.Delete,
            Kv = new KeyValue { Key = ByteString.CopyFromUtf8(key), ModRevision = pending.BaseRevision + 1 },
            PrevKv = ToProto(old),
        });
    }

    private DeleteRangeResponse DeleteIn(DeleteRangeRequest d, SortedDictionary<string, Kv> work, Pending pending)
    {
        Bulwark.Kv.Validation.RequestValidator.ValidateDeleteRange(d);
        var response = new DeleteRangeResponse();
        foreach (var key in InRange(work, d.Key, d.RangeEnd).ToList())
        {
            if (d.PrevKv)
            {
                response.PrevKvs.Add(ToProto(work[key]));
            }

            DeleteKey(key, work, pending);
            response.Deleted++;
        }

        response.Header = new ResponseHeader { Revision = pending.Visible };
        return response;
    }

    private TxnResponse TxnIn(TxnRequest t, SortedDictionary<string, Kv> work, Pending pending)
    {
        bool ok = t.Compare.All(c => CompareHolds(c, Current));
        var response = new TxnResponse { Succeeded = ok };
        foreach (var op in ok ? t.Success : t.Failure)
        {
            response.Responses.Add(op.RequestCase switch
            {
                RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = PutIn(op.RequestPut, work, pending) },
                RequestOp.RequestOneofCase.RequestDeleteRange => new ResponseOp { ResponseDeleteRange = DeleteIn(op.RequestDeleteRange, work, pending) },
                RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = RangeAt(op.RequestRange, work, pending.Visible, pending.BaseRevision, pending) },
                RequestOp.RequestOneofCase.RequestTxn => new ResponseOp { ResponseTxn = TxnIn(op.RequestTxn, work, pending) },
                _ => throw KvErrors.KeyNotFound(),
            });
        }

        response.Header = new ResponseHeader { Revision = pending.Visible };
        return response;
    }

    private static bool CompareHolds(Compare c, SortedDictionary<string, Kv> state)
    {
        var kvs = InRange(state, c.Key, c.RangeEnd).Select(k => state[k]).ToList();
        if (kvs.Count == 0)
        {
            return c.Target != Compare.Types.CompareTarget.Value && CompareOne(c, null);
        }

        return kvs.All(kv => CompareOne(c, kv));
    }

    private static bool CompareOne(Compare c, Kv? kv)
    {
        int result = c.Target switch
        {
            Compare.Types.CompareTarget.Value => string.CompareOrdinal(kv?.Value ?? "", c.TargetUnionCase == Compare.TargetUnionOneofCase.Value ? c.Value.ToStringUtf8() : ""),
            Compare.Types.CompareTarget.Version => (kv?.Version ?? 0).CompareTo(c.TargetUnionCase == Compare.TargetUnionOneofCase.Version ? c.Version : 0),
            Compare.Types.CompareTarget.Create => (kv?.Create ?? 0).CompareTo(c.TargetUnionCase == Compare.TargetUnionOneofCase.CreateRevision ? c.CreateRevision : 0),
            Compare.Types.CompareTarget.Mod => (kv?.Mod ?? 0).CompareTo(c.TargetUnionCase == Compare.TargetUnionOneofCase.ModRevision ? c.ModRevision : 0),
            _ => (kv?.Lease ?? 0).CompareTo(c.TargetUnionCase == Compare.TargetUnionOneofCase.Lease ? c.Lease : 0),
        };
        return c.Result switch
        {
            Compare.Types.CompareResult.Equal => result == 0,
            Compare.Types.CompareResult.NotEqual => result != 0,
            Compare.Types.CompareResult.Greater => result > 0,
            _ => result < 0,
        };
    }

    private RangeResponse RangeAt(RangeRequest r, SortedDictionary<string, Kv> latest, long visible, long maxRevision, Pending? pendingRevision)
    {
        Bulwark.Kv.Validation.RequestValidator.ValidateRange(r);
        long rev = r.Revision <= 0 ? visible : r.Revision;
        if (r.Revision > maxRevision)
        {
            throw KvErrors.FutureRevision();
        }

        if (rev < CompactRevision)
        {
            throw KvErrors.Compacted();
        }

        var state = rev == visible ? latest : states[(int)rev];
        _ = pendingRevision;
        var all = InRange(state, r.Key, r.RangeEnd).Select(k => state[k]).ToList();
        var response = new RangeResponse { Header = new ResponseHeader { Revision = visible }, Count = all.Count };
        if (r.CountOnly)
        {
            return response;
        }

        var kept = all.Where(kv =>
            (r.MaxModRevision == 0 || kv.Mod <= r.MaxModRevision) && (r.MinModRevision == 0 || kv.Mod >= r.MinModRevision)
            && (r.MaxCreateRevision == 0 || kv.Create <= r.MaxCreateRevision) && (r.MinCreateRevision == 0 || kv.Create >= r.MinCreateRevision)).ToList();

        var order = r.SortOrder;
        if (r.SortTarget != SortTarget.Key && order == SortOrder.None)
        {
            order = SortOrder.Ascend;
        }

        if (order != SortOrder.None)
        {
            Func<Kv, Kv, int> cmp = r.SortTarget switch
            {
                SortTarget.Key => (a, b) => string.CompareOrdinal(a.Key, b.Key),
                SortTarget.Version => (a, b) => a.Version.CompareTo(b.Version),
                SortTarget.Create => (a, b) => a.Create.CompareTo(b.Create),
                SortTarget.Mod => (a, b) => a.Mod.CompareTo(b.Mod),
                _ => (a, b) => string.CompareOrdinal(a.Value, b.Value),
            };
            int sign = order == SortOrder.Descend ? -1 : 1;

            // Stable: ties stay in key order.
            kept = kept.Select((kv, i) => (kv, i)).OrderBy(x => x, Comparer<(Kv kv, int i)>.Create((x, y) =>
            {
                int c = sign * cmp(x.kv, y.kv);
                return c != 0 ? c : x.i.CompareTo(y.i);
            })).Select(x => x.kv).ToList();
        }

        if (r.Limit > 0 && kept.Count > r.Limit)
        {
            kept = kept.Take((int)r.Limit).ToList();
            response.More = true;
        }

        foreach (var kv in kept)
        {
            var p = ToProto(kv);
            if (r.KeysOnly)
            {
                p.Value = ByteString.Empty;
            }

            response.Kvs.Add(p);
        }

        return response;
    }

    private static IEnumerable<string> InRange(SortedDictionary<string, Kv> state, ByteString key, ByteString end)
    {
        string k = key.ToStringUtf8();
        if (end.IsEmpty)
        {
            return state.ContainsKey(k) ? [k] : [];
        }

        bool open = end.Length == 1 && end[0] == 0;
        string e = end.ToStringUtf8();
        return state.Keys.Where(x => string.CompareOrdinal(x, k) >= 0 && (open || string.CompareOrdinal(x, e) < 0));
    }

    private static KeyValue ToProto(Kv kv) => new()
    {
        Key = ByteString.CopyFromUtf8(kv.Key),
        Value = ByteString.CopyFromUtf8(kv.Value),
        CreateRevision = kv.Create,
        ModRevision = kv.Mod,
        Version = kv.Version,
        Lease = kv.Lease,
    };
}
