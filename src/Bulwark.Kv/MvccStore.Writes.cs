using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Bulwark.Kv.Validation;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>Writes one key at a new revision. Events produced are appended to <paramref name="events"/> when given.</summary>
    /// <exception cref="KvException">Invalid request, unknown lease, or ignore_value/ignore_lease on a missing key.</exception>
    public PutResponse Put(PutRequest request, List<Event>? events = null)
    {
        RequestValidator.ValidatePut(request);
        BeginWrite(events);
        try
        {
            var response = PutCore(request);
            CommitWrite();
            return response;
        }
        catch
        {
            RollbackWrite();
            throw;
        }
    }

    /// <summary>Deletes one key or a range; the revision moves only if something was deleted.</summary>
    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request, List<Event>? events = null)
    {
        RequestValidator.ValidateDeleteRange(request);
        BeginWrite(events);
        try
        {
            var response = DeleteRangeCore(request);
            CommitWrite();
            return response;
        }
        catch
        {
            RollbackWrite();
            throw;
        }
    }

    private PutResponse PutCore(PutRequest request)
    {
        var keySpan = request.Key.Span;
        var record = index.Find(keySpan);
        bool exists = record is not null && record.IsLive;

        // etcd checks the lease before the key, so an unknown lease wins over a missing key.
        if (request.Lease != 0 && !leases.Contains(request.Lease))
        {
            throw KvErrors.LeaseNotFound();
        }

        if ((request.IgnoreValue || request.IgnoreLease) && !exists)
        {
            throw KvErrors.KeyNotFound();
        }

        long revision = PendingRevision;
        var previous = exists ? record!.Latest : default;
        var next = new RevisionEntry
        {
            ModRevision = revision,
            CreateRevision = exists ? previous.CreateRevision : revision,
            Version = exists ? previous.Version + 1 : 1,
            Lease = request.IgnoreLease ? previous.Lease : request.Lease,
            Value = request.IgnoreValue ? previous.Value : Own(request.Value),
        };

        if (record is null)
        {
            WriteNew(Own(request.Key), next);
        }
        else
        {
            WriteExisting(record, next);
        }

        var response = new PutResponse { Header = new ResponseHeader { Revision = revision } };
        if (request.PrevKv && exists)
        {
            response.PrevKv = ToKeyValue(record!.Key, previous, keysOnly: false);
        }

        return response;
    }

    private DeleteRangeResponse DeleteRangeCore(DeleteRangeRequest request)
    {
        var response = new DeleteRangeResponse();
        long revision = PendingRevision;
        long deleted = 0;
        var scan = new RangeScan(index, request.Key, request.RangeEnd);
        while (scan.TryNext(out var record))
        {
            if (!record.IsLive)
            {
                continue;
            }

            if (request.PrevKv)
            {
                response.PrevKvs.Add(ToKeyValue(record.Key, record.Latest, keysOnly: false));
            }

            // Changing Latest does not change the index's shape, so the scan stays valid.
            WriteExisting(record, RevisionEntry.Tombstone(revision));
            deleted++;
        }

        response.Deleted = deleted;
        response.Header = new ResponseHeader { Revision = VisibleRevision };
        return response;
    }
}
