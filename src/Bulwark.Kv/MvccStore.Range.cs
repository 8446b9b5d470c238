using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Bulwark.Kv.Validation;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Reads keys as etcd's Range does: one key, an interval, a prefix or everything from a key;
    /// at the current or a historical revision; with filters, sorting, limit, keys_only and
    /// count_only. The header carries the current store revision (also for historical reads).
    /// </summary>
    /// <exception cref="KvException">Empty key, or a compacted or future revision.</exception>
    public RangeResponse Range(RangeRequest request)
    {
        RequestValidator.ValidateRange(request);
        EnsureNotWriting();
        return RangeCore(request, currentRevision, currentRevision);
    }

    /// <param name="visibleRevision">What "latest" means for this read.</param>
    /// <param name="maxRevision">Highest revision a historical read may ask for (inside a txn: the revision before it).</param>
    private RangeResponse RangeCore(RangeRequest request, long visibleRevision, long maxRevision)
    {
        long revision = request.Revision <= 0 ? visibleRevision : request.Revision;
        if (request.Revision > maxRevision)
        {
            throw KvErrors.FutureRevision();
        }

        if (revision < compactRevision)
        {
            throw KvErrors.Compacted();
        }

        var response = new RangeResponse { Header = new ResponseHeader { Revision = visibleRevision } };

        var order = request.SortOrder;
        if (request.SortTarget != RangeRequest.Types.SortTarget.Key && order == RangeRequest.Types.SortOrder.None)
        {
            // etcd sorts ascending by default when a non-key target is named.
            order = RangeRequest.Types.SortOrder.Ascend;
        }

        bool needsSort = order == RangeRequest.Types.SortOrder.Descend
            || (order == RangeRequest.Types.SortOrder.Ascend && request.SortTarget != RangeRequest.Types.SortTarget.Key);
        bool hasFilters = request.MinModRevision != 0 || request.MaxModRevision != 0
            || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;
        long limit = request.Limit > 0 ? request.Limit : long.MaxValue;
        bool countOnly = request.CountOnly;

        long count = 0;
        long matched = 0;
        List<SortItem>? toSort = needsSort && !countOnly ? new List<SortItem>() : null;
        var scan = new RangeScan(index, request.Key, request.RangeEnd);
        while (scan.TryNext(out var record))
        {
            if (!record.TryGetAt(revision, out var entry))
            {
                continue;
            }

            count++;
            if (countOnly || (hasFilters && !PassesFilters(request, entry)))
            {
                continue;
            }

            matched++;
            if (toSort is not null)
            {
                toSort.Add(new SortItem(record.Key, entry, toSort.Count));
            }
            else if (matched <= limit)
            {
                response.Kvs.Add(ToKeyValue(record.Key, entry, request.KeysOnly));
            }
        }

        if (toSort is not null)
        {
            var items = toSort.ToArray();
            Array.Sort(items, SortItem.Comparer(request.SortTarget, descending: order == RangeRequest.Types.SortOrder.Descend));
            long take = Math.Min(limit, items.Length);
            for (int i = 0; i < take; i++)
            {
                response.Kvs.Add(ToKeyValue(items[i].Key, items[i].Entry, request.KeysOnly));
            }
        }

        response.More = matched > limit;
        response.Count = count;
        return response;
    }

    private static bool PassesFilters(RangeRequest request, in RevisionEntry entry) =>
        (request.MaxModRevision == 0 || entry.ModRevision <= request.MaxModRevision)
        && (request.MinModRevision == 0 || entry.ModRevision >= request.MinModRevision)
        && (request.MaxCreateRevision == 0 || entry.CreateRevision <= request.MaxCreateRevision)
        && (request.MinCreateRevision == 0 || entry.CreateRevision >= request.MinCreateRevision);

    /// <summary>
    /// A range result being sorted. Ties keep key order (etcd's sort is not stable, so any tie
    /// order is etcd-compatible; a fixed one keeps members and reruns identical).
    /// </summary>
    private readonly record struct SortItem(byte[] Key, RevisionEntry Entry, int Ordinal)
    {
        public static Comparison<SortItem> Comparer(RangeRequest.Types.SortTarget target, bool descending) => (a, b) =>
        {
            int c = target switch
            {
                RangeRequest.Types.SortTarget.Key => a.Key.AsSpan().SequenceCompareTo(b.Key),
                RangeRequest.Types.SortTarget.Version => a.Entry.Version.CompareTo(b.Entry.Version),
                RangeRequest.Types.SortTarget.Create => a.Entry.CreateRevision.CompareTo(b.Entry.CreateRevision),
                RangeRequest.Types.SortTarget.Mod => a.Entry.ModRevision.CompareTo(b.Entry.ModRevision),
                RangeRequest.Types.SortTarget.Value => a.Entry.Value.AsSpan().SequenceCompareTo(b.Entry.Value),
                _ => 0,
            };
            if (descending)
            {
                c = -c;
            }

            return c != 0 ? c : a.Ordinal.CompareTo(b.Ordinal);
        };
    }
}
