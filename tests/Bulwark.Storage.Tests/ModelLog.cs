using Bulwark.Consensus;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

/// <summary>The obvious in-memory log the WAL must agree with: written independently of the WAL's replay code.</summary>
internal sealed class ModelLog
{
    public List<Entry> Entries { get; } = [];

    public HardState HardState { get; set; }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    public ulong LastIndex => Entries.Count > 0 ? Entries[^1].Index : SnapshotIndex;

    public ulong TermAt(ulong index) =>
        index == SnapshotIndex ? SnapshotTerm : Entries.Single(e => e.Index == index).Term;

    public void Append(Entry e)
    {
        Entries.RemoveAll(x => x.Index >= e.Index);
        Entries.Add(e);
    }

    public void Release(ulong index, ulong term)
    {
        if (index <= SnapshotIndex)
        {
            return;
        }

        var at = Entries.FindIndex(e => e.Index == index);
        if (at >= 0 && Entries[at].Term == term)
        {
            Entries.RemoveRange(0, at + 1);
        }
        else
        {
            Entries.Clear();
        }

        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    public ModelLog Clone()
    {
        var copy = new ModelLog { HardState = HardState, SnapshotIndex = SnapshotIndex, SnapshotTerm = SnapshotTerm };
        copy.Entries.AddRange(Entries);
        return copy;
    }

    public bool Matches(WalRecovery r) =>
        r.HardState == HardState && r.SnapshotIndex == SnapshotIndex && r.SnapshotTerm == SnapshotTerm &&
        r.Entries.Count == Entries.Count && Entries.Zip(r.Entries).All(p => TestEntries.SameEntry(p.First, p.Second));

    public override string ToString() =>
        $"hs={HardState} snap={SnapshotIndex}@{SnapshotTerm} entries={Entries.Count} last={LastIndex}";
}
