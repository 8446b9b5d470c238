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
