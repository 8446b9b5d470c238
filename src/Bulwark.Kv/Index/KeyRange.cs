using Google.Protobuf;

namespace Bulwark.Kv.Index;

/// <summary>
/// etcd's key-range convention: an empty range_end names the single key; range_end "\0" means
/// every key &gt;= key; anything else is the half-open interval [key, range_end). A prefix is
/// asked for with range_end = key with its last byte incremented, which is just an interval.
/// </summary>
internal static class KeyRange
{
    public static bool IsSingleKey(ByteString rangeEnd) => rangeEnd.IsEmpty;

    public static bool IsOpenEnded(ByteString rangeEnd) => rangeEnd.Length == 1 && rangeEnd[0] == 0;

    /// <summary>True when <paramref name="candidate"/> lies in the range named by key and rangeEnd.</summary>
    public static bool Contains(ReadOnlySpan<byte> key, ByteString rangeEnd, ReadOnlySpan<byte> candidate)
    {
        if (IsSingleKey(rangeEnd))
        {
            return candidate.SequenceEqual(key);
        }

        if (candidate.SequenceCompareTo(key) < 0)
        {
            return false;
        }

        return IsOpenEnded(rangeEnd) || candidate.SequenceCompareTo(rangeEnd.Span) < 0;
    }
}

/// <summary>Iterates the records of an index whose keys lie in one etcd key range.</summary>
internal ref struct RangeScan
{
    private readonly ReadOnlySpan<byte> end;
    private readonly bool openEnded;
    private KeyIndex.Cursor cursor;
    private KeyRecord? single;
    private readonly bool isSingle;

    public RangeScan(KeyIndex index, ByteString key, ByteString rangeEnd)
    {
        isSingle = KeyRange.IsSingleKey(rangeEnd);
        if (isSingle)
        {
            single = index.Find(key.Span);
            end = default;
            openEnded = false;
            cursor = default;
        }
        else
        {
            openEnded = KeyRange.IsOpenEnded(rangeEnd);
            end = rangeEnd.Span;
            cursor = index.Seek(key.Span);
            single = null;
        }
    }

    public bool TryNext(out KeyRecord record)
    {
        if (isSingle)
        {
            record = single!;
            single = null;
            return record is not null;
        }

        if (!cursor.TryNext(out record))
        {
            return false;
        }

        if (!openEnded && record.Key.AsSpan().SequenceCompareTo(end) >= 0)
        {
            cursor = default;
            return false;
        }

        return true;
    }
}
