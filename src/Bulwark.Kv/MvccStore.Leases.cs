using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Bulwark.Kv.Leases;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Records a lease. ID 0 asks the store to choose one (the next free positive id, so every
    /// member chooses the same). Granting does not move the revision.
    /// </summary>
    /// <exception cref="KvException">The id is taken, or the TTL exceeds <see cref="MaxLeaseTtlSeconds"/>.</exception>
    public LeaseGrantResponse LeaseGrant(LeaseGrantRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureNotWriting();
        if (request.TTL > MaxLeaseTtlSeconds)
        {
            throw KvErrors.LeaseTtlTooLarge();
        }

        if (request.ID != 0 && leases.Contains(request.ID))
        {
            throw KvErrors.LeaseExists();
        }

        long id = request.ID != 0 ? request.ID : leases.AllocateId();
        leases.Add(id, request.TTL);
        return new LeaseGrantResponse
        {
            Header = new ResponseHeader { Revision = currentRevision },
            ID = id,
            TTL = request.TTL,
        };
    }

    /// <summary>Removes a lease and deletes its keys (in key order, at one new revision if there are any).</summary>
    /// <exception cref="KvException">No such lease.</exception>
    public LeaseRevokeResponse LeaseRevoke(LeaseRevokeRequest request, List<Event>? events = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureNotWriting();
        if (!leases.TryGet(request.ID, out var lease))
        {
            throw KvErrors.LeaseNotFound();
        }

        BeginWrite(events);
        try
        {
            long revision = PendingRevision;
            foreach (var record in lease.SortedKeys())
            {
                WriteExisting(record, RevisionEntry.Tombstone(revision));
            }

            CommitWrite();
        }
        catch
        {
            RollbackWrite();
            throw;
        }

        leases.Remove(request.ID);
        return new LeaseRevokeResponse { Header = new ResponseHeader { Revision = currentRevision } };
    }

    /// <summary>The lease with this id, with its attached keys in key order.</summary>
    public bool TryGetLease(long id, out LeaseInfo? lease)
    {
        if (!leases.TryGet(id, out var record))
        {
            lease = null;
            return false;
        }

        var keys = record.SortedKeys();
        var keyBytes = new byte[keys.Length][];
        for (int i = 0; i < keys.Length; i++)
        {
            keyBytes[i] = keys[i].Key;
        }

        lease = new LeaseInfo(record.Id, record.Ttl, keyBytes);
        return true;
    }

    /// <summary>Every granted lease's id and granted TTL in seconds, ascending by id.</summary>
    public IReadOnlyList<(long Id, long Ttl)> LeaseGrants()
    {
        var sorted = leases.SortedById();
        var grants = new (long, long)[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            grants[i] = (sorted[i].Id, sorted[i].Ttl);
        }

        return grants;
    }

    /// <summary>Ids of all granted leases, ascending.</summary>
    public IReadOnlyList<long> LeaseIds()
    {
        var sorted = leases.SortedById();
        var ids = new long[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            ids[i] = sorted[i].Id;
        }

        return ids;
    }
}
