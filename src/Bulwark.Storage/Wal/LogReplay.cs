using Bulwark.Consensus;

namespace Bulwark.Storage.Wal;

/// <summary>
/// Rebuilds the log from records in the order they were written. The WAL never overwrites in place: a Raft
/// suffix truncation is an entry whose index is at or below the last one, and a snapshot marker drops what it covers.
/// The same rules run when appending (<see cref="WriteAheadLog"/>) and recovering, so both agree by construction.
/// </summary>
internal sealed class LogReplay
{
    private readonly List<Entry> _entries = [];

    public HardState HardState { get; private set; }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    public IReadOnlyList<Entry> Entries => _entries;

    public ulong LastIndex => _entries.Count > 0 ? _entries[^1].Index : SnapshotIndex;

    public ulong FirstIndex => _entries.Count > 0 ? _entries[0].Index : SnapshotIndex + 1;

    /// <summary>Null if accepted, else why the entry cannot follow what is there (corruption on recovery).</summary>
    public string? AddEntry(Entry entry)
    {
        if (entry.Index <= SnapshotIndex)
        {
            return $"entry {entry.Index} is at or below the snapshot index {SnapshotIndex}";
        }

        if (_entries.Count > 0)
        {
            var first = _entries[0].Index;
            var last = _entries[^1].Index;
            if (entry.Index > last + 1)
            {
                return $"entry {entry.Index} leaves a gap after entry {last}";
            }

            if (entry.Index < first)
            {
                // Overwrites everything we have: legitimate when the segments holding the older entries were released.
                _entries.Clear();
            }
            else if (entry.Index <= last)
            {
                _entries.RemoveRange((int)(entry.Index - first), (int)(last - entry.Index + 1));
            }
        }

        if (_entries.Count > 0 && entry.Term < _entries[^1].Term)
        {
            return $"entry {entry.Index} has term {entry.Term}, below the previous entry's term {_entries[^1].Term}";
        }

        _entries.Add(entry);
        return null;
    }

    public void SetHardState(HardState hardState) => HardState = hardState;

    /// <summary>
    /// Raft's rule for installing a snapshot (index, term): if the log holds that entry with that term, keep what follows it;
    /// otherwise the whole log is superseded by the snapshot.
    /// </summary>
    public void ApplySnapshotMarker(ulong index, ulong term)
    {
        if (index <= SnapshotIndex)
        {
            return;
        }

        if (_entries.Count > 0 && index >= _entries[0].Index)
        {
            var first = _entries[0].Index;
            if (index <= _entries[^1].Index && _entries[(int)(index - first)].Term == term)
            {
                _entries.RemoveRange(0, (int)(index - first + 1));
            }
            else
            {
                _entries.Clear();
            }
        }

        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    /// <summary>Null if the log is whole, else what is missing (entries lost between the snapshot and the first entry).</summary>
    public string? CheckComplete()
    {
        if (_entries.Count > 0 && _entries[0].Index != SnapshotIndex + 1)
        {
            return $"entries {SnapshotIndex + 1}..{_entries[0].Index - 1} are missing (the log starts at {_entries[0].Index}, snapshot index {SnapshotIndex})";
        }

        return null;
    }
}
