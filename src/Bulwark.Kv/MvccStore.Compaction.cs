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

        List<KeyRecord>? gone = null;
        var cursor = index.First();
        while (cursor.TryNext(out var record))
        {
            if (!record.Compact(revision))
            {
                (gone ??= new List<KeyRecord>()).Add(record);
            }
        }

        if (gone is not null)
        {
            foreach (var record in gone)
            {
                index.Remove(record.Key);
            }
        }

        compactRevision = revision;
        return new CompactionResponse { Header = new ResponseHeader { Revision = currentRevision } };
    }
}
