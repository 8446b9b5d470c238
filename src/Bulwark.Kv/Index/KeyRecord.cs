namespace Bulwark.Kv.Index;

/// <summary>
/// Everything the store keeps about one key: the newest state inline (most keys have exactly
/// one) and older states, oldest first, for historical reads until compaction drops them.
/// </summary>
internal sealed class KeyRecord
{
    public KeyRecord(byte[] key, RevisionEntry latest)
    {
        Key = key;
        Latest = latest;
    }

    /// <summary>Never mutated; shared with responses without copying.</summary>
    public byte[] Key { get; }

    public RevisionEntry Latest;

    /// <summary>Older states in ascending revision order; slots from <see cref="HistoryCount"/> on are unused.</summary>
    public RevisionEntry[]? History;

    public int HistoryCount;

    public bool IsLive => !Latest.IsTombstone;

    /// <summary>Makes <paramref name="next"/> the newest state, keeping the current one as history.</summary>
    public void Push(RevisionEntry next)
    {
        if (History is null)
        {
            History = new RevisionEntry[2];
        }
        else if (HistoryCount == History.Length)
        {
            Array.Resize(ref History, History.Length * 2);
        }

        History[HistoryCount++] = Latest;
        Latest = next;
    }

    /// <summary>Undoes pushes back to a remembered state (used to roll back a failed write).</summary>
    public void RestoreTo(RevisionEntry latest, int historyCount)
    {
        if (History is not null)
        {
            Array.Clear(History, historyCount, HistoryCount - historyCount);
        }

        HistoryCount = historyCount;
        Latest = latest;
    }

    /// <summary>State <paramref name="i"/> of the key, oldest first: history, then <see cref="Latest"/> at <see cref="HistoryCount"/>.</summary>
    public ref readonly RevisionEntry StateAt(int i) => ref i < HistoryCount ? ref History![i] : ref Latest;

    /// <summary>
    /// The states [Start, End) (see <see cref="StateAt"/>) that this key would hold in a store at revision
    /// <paramref name="upTo"/> compacted at <paramref name="compactRevision"/> (&lt;= upTo): those with a revision at or
    /// below <paramref name="upTo"/>, less what <see cref="Compact"/> drops (every state before the last one at or below
    /// the compact revision, and that one too when it is a tombstone). Empty when the key did not exist yet at
    /// <paramref name="upTo"/> or compaction removes it. On a record already compacted at <paramref name="compactRevision"/>
    /// with nothing newer than <paramref name="upTo"/>, it is all its states: so a view of a store whose physical
    /// compaction is deferred (a snapshot is being written) equals the compacted store.
    /// </summary>
    public (int Start, int End) Retained(long compactRevision, long upTo)
    {
        int end = HistoryCount + 1;
        while (end > 0 && StateAt(end - 1).ModRevision > upTo)
        {
            end--;
        }

        int last = end - 1;
        while (last >= 0 && StateAt(last).ModRevision > compactRevision)
        {
            last--;
        }

        int start = last < 0 ? 0 : StateAt(last).IsTombstone ? last + 1 : last;
        return (start, end);
    }

    /// <summary>The state visible at <paramref name="revision"/>, if the key existed then.</summary>
    public bool TryGetAt(long revision, out RevisionEntry entry)
    {
        if (Latest.ModRevision <= revision)
        {
            entry = Latest;
            return !entry.IsTombstone;
        }

        // Binary search for the last history entry with ModRevision <= revision.
        var history = History;
        int lo = 0, hi = HistoryCount - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (history![mid].ModRevision <= revision)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0)
        {
            entry = default;
            return false;
        }

        entry = history![found];
        return !entry.IsTombstone;
    }

    /// <summary>
    /// Drops states no read at or after <paramref name="compactRevision"/> can see. Returns false
    /// when nothing remains (the key was deleted at or before that revision) and the record can go.
    /// </summary>
    public bool Compact(long compactRevision)
    {
        if (Latest.ModRevision <= compactRevision)
        {
            if (Latest.IsTombstone)
            {
                return false;
            }

            if (HistoryCount > 0)
            {
                History = null;
                HistoryCount = 0;
            }

            return true;
        }

        // Index of the last history entry visible at compactRevision.
        int keep = -1;
        for (int i = HistoryCount - 1; i >= 0; i--)
        {
            if (History![i].ModRevision <= compactRevision)
            {
                keep = i;
                break;
            }
        }

        if (keep < 0)
        {
            return true;
        }

        if (History![keep].IsTombstone)
        {
            keep++;
        }

        if (keep == 0)
        {
            return true;
        }

        int remaining = HistoryCount - keep;
        if (remaining == 0)
        {
            History = null;
        }
        else
        {
            var trimmed = new RevisionEntry[remaining];
            Array.Copy(History, keep, trimmed, 0, remaining);
            History = trimmed;
        }

        HistoryCount = remaining;
        return true;
    }
}
