using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Bulwark.Kv.Snapshots;

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

        compactRevision = revision;
        if (openSnapshot is null)
        {
            CompactHistory();
        }

        return new CompactionResponse { Header = new ResponseHeader { Revision = currentRevision } };
    }

    /// <summary>
    /// True while a <see cref="PointInTimeSnapshot"/> is open and a compaction since it began has only moved the compact
    /// revision: the history it drops stays until the snapshot ends. Reads, events, hashes and snapshots do not see the
    /// difference (they filter by the compact revision); only <see cref="IndexedKeyCount"/> and memory do.
    /// </summary>
    public bool HistoryCompactionDeferred => historyCompactedTo < compactRevision;

    /// <summary>
    /// Drops the history no read at or after the compact revision can see (the physical half of <see cref="Compact"/>).
    /// Compacting once at the newest compact revision gives the same records as compacting at each one in turn, with any
    /// writes in between (they are all newer than the compact revision), so deferring it changes nothing observable.
    /// </summary>
    private void CompactHistory()
    {
        if (!HistoryCompactionDeferred)
        {
            return;
        }

        long revision = compactRevision;

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

        historyCompactedTo = revision;
    }
}
