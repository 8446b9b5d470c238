using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Bulwark.Consensus.Membership;

namespace Bulwark.Consensus.Log;

/// <summary>
/// One node's log as the core sees it: snapshot metadata, then every entry after it. Entries up to
/// <see cref="Stable"/> are durable (the host said so through Advance); entries after <see cref="HandedOut"/>
/// have not been given to the host yet; the rest are being written. <see cref="Committed"/> never goes back and
/// never passes the last index; <see cref="Applying"/> is what was handed out to apply, <see cref="Applied"/>
/// what the host reported applied.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<Entry> entries = [];
    private readonly ConfigHistory configs;

    public RaftLog(SnapshotMetadata snapshot, ImmutableArray<Entry> stored, ulong commit, ulong applied)
    {
        SnapshotIndex = snapshot.Index;
        SnapshotTerm = snapshot.Term;
        configs = new ConfigHistory(snapshot.Index, snapshot.Config);
        var expected = snapshot.Index + 1;
        var previousTerm = snapshot.Term;
        foreach (var entry in stored)
        {
            if (entry.Index != expected)
            {
                throw new ArgumentException(
                    $"recovered entries must be contiguous after the snapshot: expected index {expected}, found {entry}",
                    nameof(stored));
            }

            if (entry.Term < previousTerm)
            {
                throw new ArgumentException(
                    $"recovered entry {entry} has a lower term than its predecessor ({previousTerm})", nameof(stored));
            }

            entries.Add(entry);
            configs.OnAppend(entry);
            previousTerm = entry.Term;
            expected++;
        }

        Committed = Math.Max(commit, snapshot.Index);
        if (Committed > LastIndex)
        {
            throw new ArgumentException(
                $"recovered commit index {Committed} is beyond the last recovered index {LastIndex}", nameof(commit));
        }

        if (applied > Committed)
        {
            throw new ArgumentException(
                $"recovered applied index {applied} is beyond the commit index {Committed}", nameof(applied));
        }

        Applied = Math.Max(applied, snapshot.Index);
        Applying = Applied;
        Stable = LastIndex;
        HandedOut = LastIndex;
    }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public ulong Applying { get; private set; }

    public ulong Stable { get; private set; }

    public ulong HandedOut { get; private set; }

    /// <summary>A snapshot received from the leader that the host has not been given yet.</summary>
    public Snapshot? PendingSnapshot { get; private set; }

    public ClusterConfig Config => configs.Current;

    /// <summary>Index of the newest configuration entry in the log (or the snapshot index).</summary>
    public ulong ConfigIndex => configs.CurrentIndex;

    /// <summary>The configuration in force once the entry at <paramref name="index"/> is in the log.</summary>
    public ClusterConfig ConfigAt(ulong index) => configs.At(index);

    public ulong FirstIndex => SnapshotIndex + 1;

    public ulong LastIndex => SnapshotIndex + (ulong)entries.Count;

    public ulong LastTerm => entries.Count == 0 ? SnapshotTerm : entries[^1].Term;

    public SnapshotMetadata SnapshotMetadata => new(SnapshotIndex, SnapshotTerm, configs.At(SnapshotIndex));

    /// <summary>The term of the entry at <paramref name="index"/>; false if compacted away or beyond the end.</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        if (index == SnapshotIndex)
        {
            term = SnapshotTerm;
            return true;
        }

        if (index < SnapshotIndex || index > LastIndex)
        {
            term = 0;
            return false;
        }

        term = entries[(int)(index - SnapshotIndex - 1)].Term;
        return true;
    }

    public ulong TermOrZero(ulong index) => TryTerm(index, out var term) ? term : 0;

    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    public Entry At(ulong index)
    {
        if (index <= SnapshotIndex || index > LastIndex)
        {
            throw new RaftInvariantException(
                $"entry {index} is outside the log [{FirstIndex}, {LastIndex}]");
        }

        return entries[(int)(index - SnapshotIndex - 1)];
    }

    /// <summary>Election restriction (§5.4.1): a log ending in (term, index) is at least as up to date as ours.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>
    /// Index of the first entry of <paramref name="incoming"/> that conflicts with ours (same index, other term)
    /// or is new; 0 when all are already present.
    /// </summary>
    public ulong FindConflict(ReadOnlySpan<Entry> incoming)
    {
        foreach (ref readonly var entry in incoming)
        {
            if (!MatchTerm(entry.Index, entry.Term))
            {
                return entry.Index;
            }
        }

        return 0;
    }

    /// <summary>
    /// Fast back-off (etcd's findConflictByTerm): the largest index at or below <paramref name="index"/> whose
    /// term is at most <paramref name="term"/>, with that term (0 if unknown because compacted).
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        index = Math.Min(index, LastIndex);
        while (true)
        {
            if (!TryTerm(index, out var ourTerm))
            {
                return (index, 0);
            }

            if (ourTerm <= term || index == 0)
            {
                return (index, ourTerm);
            }

            index--;
        }
    }

    /// <summary>
    /// The follower side of AppendEntries: if our entry at <paramref name="prevIndex"/> has
    /// <paramref name="prevTerm"/>, take <paramref name="incoming"/> (dropping only a conflicting suffix) and
    /// commit up to min(leaderCommit, last new index). Returns the last index known to match, or null on mismatch.
    /// </summary>
    public ulong? MaybeAppend(ulong prevIndex, ulong prevTerm, ulong leaderCommit, ImmutableArray<Entry> incoming)
    {
        if (!MatchTerm(prevIndex, prevTerm))
        {
            return null;
        }

        var lastNew = prevIndex + (ulong)incoming.Length;
        var span = incoming.AsSpan();
        var conflict = FindConflict(span);
        if (conflict != 0)
        {
            Append(span[(int)(conflict - prevIndex - 1)..]);
        }

        CommitTo(Math.Min(leaderCommit, lastNew));
        return lastNew;
    }

    /// <summary>
    /// Appends entries that must continue our log at or before its end; an overlapping suffix is truncated
    /// (never a committed entry). Terms may not decrease and indexes must be contiguous.
    /// </summary>
    public void Append(ReadOnlySpan<Entry> incoming)
    {
        if (incoming.IsEmpty)
        {
            return;
        }

        var first = incoming[0].Index;
        if (first <= Committed)
        {
            throw new RaftInvariantException(
                $"refusing to overwrite committed entry {first} (commit index {Committed}) with {incoming[0]}");
        }

        if (first > LastIndex + 1)
        {
            throw new RaftInvariantException($"append at {first} leaves a gap after last index {LastIndex}");
        }

        if (first <= LastIndex)
        {
            TruncateFrom(first);
        }

        var previousTerm = LastTerm;
        var expected = first;
        foreach (ref readonly var entry in incoming)
        {
            if (entry.Index != expected)
            {
                throw new RaftInvariantException($"entries to append are not contiguous: expected {expected}, found {entry}");
            }

            if (entry.Term < previousTerm)
            {
                throw new RaftInvariantException(
                    $"term would decrease in the log: {entry} follows an entry of term {previousTerm}");
            }

            entries.Add(entry);
            configs.OnAppend(entry);
            previousTerm = entry.Term;
            expected++;
        }
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new RaftInvariantException($"commit index {index} is beyond the last index {LastIndex}");
        }

        Committed = index;
    }

    /// <summary>Up to <paramref name="maxBytes"/> of entries from <paramref name="from"/> (at least one if any).</summary>
    public ImmutableArray<Entry> Slice(ulong from, ulong toInclusive, long maxBytes)
    {
        if (from > toInclusive)
        {
            return [];
        }

        if (from <= SnapshotIndex || toInclusive > LastIndex)
        {
            throw new RaftInvariantException($"slice [{from}, {toInclusive}] is outside the log [{FirstIndex}, {LastIndex}]");
        }

        var span = CollectionsMarshal.AsSpan(entries).Slice((int)(from - SnapshotIndex - 1), (int)(toInclusive - from + 1));
        var count = 0;
        long bytes = 0;
        while (count < span.Length)
        {
            bytes += span[count].Size;
            if (count > 0 && bytes > maxBytes)
            {
                break;
            }

            count++;
        }

        return ImmutableArray.Create(span[..count]);
    }

    /// <summary>Entries the host has not been given yet; marks them handed out.</summary>
    public ImmutableArray<Entry> TakeUnstable()
    {
        if (HandedOut >= LastIndex)
        {
            return [];
        }

        var result = Slice(HandedOut + 1, LastIndex, long.MaxValue);
        HandedOut = LastIndex;
        return result;
    }

    public bool HasUnstable => HandedOut < LastIndex;

    /// <summary>Committed entries not yet handed out to apply (all already handed out to persist, or in this batch).</summary>
    public bool HasNextCommitted => Applying < Committed;

    public ImmutableArray<Entry> TakeNextCommitted()
    {
        if (!HasNextCommitted)
        {
            return [];
        }

        var result = Slice(Applying + 1, Committed, long.MaxValue);
        Applying = Committed;
        return result;
    }

    public Snapshot? TakePendingSnapshot()
    {
        var snapshot = PendingSnapshot;
        PendingSnapshot = null;
        return snapshot;
    }

    /// <summary>The host made entries up to (index, term) durable; ignored if that entry was since replaced.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (index > Stable && MatchTerm(index, term))
        {
            Stable = index;
        }
    }

    public void AppliedTo(ulong index)
    {
        if (index > Committed)
        {
            throw new RaftInvariantException($"applied index {index} is beyond the commit index {Committed}");
        }

        Applied = Math.Max(Applied, index);
    }

    /// <summary>Replaces the whole log with a snapshot from the leader (newer than anything we committed).</summary>
    public void Restore(Snapshot snapshot)
    {
        var meta = snapshot.Metadata;
        if (meta.Index <= Committed)
        {
            throw new RaftInvariantException($"snapshot at {meta.Index} would move the commit index back from {Committed}");
        }

        entries.Clear();
        SnapshotIndex = meta.Index;
        SnapshotTerm = meta.Term;
        configs.Reset(meta.Index, meta.Config);
        Committed = meta.Index;
        Applying = Math.Max(Applying, meta.Index);
        Stable = meta.Index;
        HandedOut = meta.Index;
        PendingSnapshot = snapshot;
    }

    /// <summary>The host installed the snapshot it was handed: its state machine now reflects the snapshot index.</summary>
    public void SnapshotInstalled(ulong index) => Applied = Math.Max(Applied, index);

    /// <summary>Drops entries up to <paramref name="index"/>, which the host captured in a snapshot.</summary>
    public void Compact(ulong index)
    {
        if (index <= SnapshotIndex)
        {
            return;
        }

        EnsureCompactable(index);
        var term = TermOrZero(index);
        configs.OnCompact(index);
        entries.RemoveRange(0, (int)(index - SnapshotIndex));
        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    /// <summary>Throws unless a snapshot at <paramref name="index"/> may stand for the log up to it: applied and durable.</summary>
    public void EnsureCompactable(ulong index)
    {
        if (index > Applied)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), $"cannot compact to {index}: only {Applied} is applied");
        }

        if (index > Stable)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), $"cannot compact to {index}: only {Stable} is durable");
        }
    }

    private void TruncateFrom(ulong index)
    {
        entries.RemoveRange((int)(index - SnapshotIndex - 1), (int)(LastIndex - index + 1));
        configs.OnTruncate(index);
        Stable = Math.Min(Stable, index - 1);
        HandedOut = Math.Min(HandedOut, index - 1);
    }
}
