using Bulwark.Consensus;

namespace Bulwark.Storage.Wal;

/// <summary>
/// Rebuilds the log from records in the order they were written. The WAL never overwrites in place: a Raft
/// suffix truncation is an entry whose index is at or below the last one, and a snapshot marker drops what it covers.
/// The same rules run when appending (<see cref="WriteAheadLog"/>) and recovering, so both agree by construction.
/// </summary>
internal sealed class LogReplay
{
    private readonly List<Entry> entries = [];

    public HardState HardState { get; private set; }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    public IReadOnlyList<Entry> Entries => entries;

    public ulong LastIndex => entries.Count > 0 ? entries[^1].Index : SnapshotIndex;

    public ulong FirstIndex => entries.Count > 0 ? entries[0].Index : SnapshotIndex + 1;

    /// <summary>Null if accepted, else why the entry cannot follow what is there (corruption on recovery).</summary>
    public string? AddEntry(Entry entry)
    {
        if (entry.Index <= SnapshotIndex)
        {
            return $"entry {entry.Index} is at or below the snapshot index {SnapshotIndex}";
        }

        if (entries.Count > 0)
        {
            var first = entries[0].Index;
            var last = entries[^1].Index;
            if (entry.Index > last + 1)
            {
                return $"entry {entry.Index} leaves a gap after entry {last}";
            }

            if (entry.Index < first)
            {
                // Overwrites everything we have: legitimate when the segments holding the older entries were released.
                entries.Clear();
            }
            else if (entry.Index <= last)
            {
                entries.RemoveRange((int)(entry.Index - first), (int)(last - entry.Index + 1));
            }
        }

        if (entries.Count > 0 && entry.Term < entries[^1].Term)
        {
            return $"entry {entry.Index} has term {entry.Term}, below the previous entry's term {entries[^1].Term}";
        }

        entries.Add(entry);
        return null;
    }

    public void SetHardState(HardState hardState) => HardState = hardState;

    /// <summary>
    /// A snapshot point. Raft's rule was applied when it was written: if the log held the snapshot's entry with the
    /// snapshot's term, the entries after it were kept (<paramref name="keepsFollowing"/>); otherwise the whole log was
    /// superseded. The decision is stored rather than recomputed because the entry it depended on may live in a
    /// segment that has since been deleted.
    /// </summary>
    public void ApplySnapshotMarker(ulong index, ulong term, bool keepsFollowing)
    {
        if (index <= SnapshotIndex)
        {
            return;
        }

        if (!keepsFollowing)
        {
            entries.Clear();
        }
        else
        {
            var drop = 0;
            while (drop < entries.Count && entries[drop].Index <= index)
            {
                drop++;
            }

            entries.RemoveRange(0, drop);
        }

        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    /// <summary>Null if the log is whole, else what is missing (entries lost between the snapshot and the first entry).</summary>
    public string? CheckComplete()
    {
        if (entries.Count > 0 && entries[0].Index != SnapshotIndex + 1)
        {
            return $"entries {SnapshotIndex + 1}..{entries[0].Index - 1} are missing (the log starts at {entries[0].Index}, snapshot index {SnapshotIndex})";
        }

        return null;
    }
}
