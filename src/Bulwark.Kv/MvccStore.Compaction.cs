using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Drops history that no read at or after <paramref name="request"/>.Revision can see; reads
    /// below it then fail as compacted. Keys deleted at or before it leave the index. The store
    /// revision does not change.
    /// </summary>
    /// <exception cref="KvException">The revision is already compacted, or is in the future.</exception>
    public CompactionResponse Compact(CompactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureNotWriting();
        long revision = request.Revision;
        if (revision <= compactRevision)
        {
            throw KvErrors.Compacted();
        }

        if (revision > currentRevision)
        {
            throw KvErrors.FutureRevision();
        }

        // Per-key work is independent, so the set's (non-deterministic) order cannot change the result.
        var candidates = new KeyRecord[versioned.Count];
        versioned.CopyTo(candidates);
        foreach (var record in candidates)
        {
            if (!record.Compact(revision))
            {
                if (!index.Remove(record.Key))
                {
                    throw new InvalidOperationException("MvccStore invariant broken: a compacted key was not in the index.");
                }

                versioned.Remove(record);
            }
            else if (record.HistoryCount == 0 && record.IsLive)
            {
                versioned.Remove(record);
            }
        }

        compactRevision = revision;
        return new CompactionResponse { Header = new ResponseHeader { Revision = currentRevision } };
    }
}
