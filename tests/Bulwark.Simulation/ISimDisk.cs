using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>What survived on a node's disk: the input to rebuilding its <see cref="RaftState"/> and state machine.</summary>
public sealed record DiskImage(HardState HardState, SnapshotMetadata? Snapshot, byte[] SnapshotData, IReadOnlyList<Entry> Entries)
{
    public ulong LastIndex => Entries.Count > 0 ? Entries[^1].Index : Snapshot?.Index ?? 0;
}

/// <summary>
/// A node's durable storage as the sim host uses it: writes are buffered until <see cref="Sync"/>; a crash keeps
/// only what was synced (plus, possibly, a prefix of later writes, the last of them torn). The seam a real
/// write-ahead log (Bulwark.Storage over an in-memory crash-semantics file system) plugs into.
/// </summary>
public interface ISimDisk
{
    /// <summary>Installs a snapshot received from the leader: it replaces the whole log.</summary>
    void InstallSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data);

    /// <summary>Saves a snapshot of the local state machine and drops the entries it covers; later entries stay.</summary>
    void SaveSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data);

    /// <summary>Appends entries, first truncating any existing suffix from the first new entry's index.</summary>
    void Append(IReadOnlyList<Entry> entries);

    void WriteHardState(HardState state);

    /// <summary>Makes every write so far durable.</summary>
    void Sync();

    /// <summary>The node lost power: unsynced writes are lost, except that a prefix of them may have reached the
    /// disk, the last one torn (a torn record is found by its checksum and cut off on recovery).</summary>
    void Crash(DeterministicRandom random, bool mayPersistUnsynced, bool mayTear);

    /// <summary>What a restarting node reads back.</summary>
    DiskImage Recover();

    /// <summary>The term of the entry at <paramref name="index"/> as written so far (0 if absent or compacted).</summary>
    ulong TermAt(ulong index);

    /// <summary>The log as written so far, synced or not (for checkers; equals the core's log).</summary>
    DiskImage Current { get; }
}
