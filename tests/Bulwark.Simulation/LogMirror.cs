using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>A node's log as the checkers see it: hard state, snapshot metadata and the entries after it.</summary>
public sealed record DiskImage(HardState HardState, SnapshotMetadata? Snapshot, IReadOnlyList<Entry> Entries)
{
    public ulong LastIndex => Entries.Count > 0 ? Entries[^1].Index : Snapshot?.Index ?? 0;
}

/// <summary>
/// The log as the node has written it, synced or not, for the checkers (log matching, leader completeness, the commit
/// rule). The production host keeps its log in the write-ahead log, which cannot be read back while it runs, so this
/// mirror follows the same writes through <see cref="Bulwark.Server.Hosting.IHostTestObserver.Written"/>; on restart
/// it starts again from what the production recovery path recovered. Entries a snapshot compacted away stay here
/// (they were written and are still right), so only an installed snapshot replaces the log.
/// </summary>
public sealed class LogMirror
{
    private readonly List<Entry> entries = [];
    private SnapshotMetadata? snapshot;
    private HardState hardState = HardState.Empty;

    public static LogMirror From(RaftState recovered)
    {
        ArgumentNullException.ThrowIfNull(recovered);
        var mirror = new LogMirror { snapshot = recovered.Snapshot, hardState = recovered.HardState };
        mirror.entries.AddRange(recovered.Entries);
        return mirror;
    }

    public DiskImage Current => new(hardState, snapshot, [.. entries]);

    public void InstallSnapshot(SnapshotMetadata metadata)
    {
        // Raft's snapshot rule, as the log applies it: the entries after the snapshot stay only if the log agrees with it.
        var agrees = TermAt(metadata.Index) == metadata.Term;
        entries.RemoveAll(e => !agrees || e.Index <= metadata.Index);
        snapshot = metadata;
    }

    /// <summary>Appends entries, first truncating any existing suffix from the first new entry's index.</summary>
    public void Append(IReadOnlyList<Entry> appended)
    {
        if (appended.Count == 0)
        {
            return;
        }

        var first = appended[0].Index;
        entries.RemoveAll(e => e.Index >= first);
        entries.AddRange(appended);
    }

    public void WriteHardState(HardState state) => hardState = state;

    /// <summary>The term of the entry at <paramref name="index"/> (the snapshot's at its index; 0 if absent).</summary>
    public ulong TermAt(ulong index)
    {
        if (snapshot is { } s && s.Index == index)
        {
            return s.Term;
        }

        if (entries.Count == 0 || index < entries[0].Index || index > entries[^1].Index)
        {
            return 0;
        }

        var entry = entries[(int)(index - entries[0].Index)];
        return entry.Index == index ? entry.Term : 0;
    }
}
