using Bulwark.Consensus;

namespace Bulwark.Storage.Wal;

/// <summary>
/// What <see cref="WriteAheadLog.Open"/> read back: the newest hard state, the snapshot point recorded by
/// <see cref="WriteAheadLog.ReleaseUpTo"/> (0/0 if none), and the contiguous entries after it.
/// </summary>
public sealed record WalRecovery(
    HardState HardState,
    ulong SnapshotIndex,
    ulong SnapshotTerm,
    IReadOnlyList<Entry> Entries,
    TornTail? TornTail)
{
    /// <summary>The index of the last recovered entry, or <see cref="SnapshotIndex"/> when there are none.</summary>
    public ulong LastIndex => Entries.Count > 0 ? Entries[^1].Index : SnapshotIndex;
}

/// <summary>An incomplete write found (and cut off) at the very end of the log: never acknowledged, so safe to drop.</summary>
public sealed record TornTail(string FilePath, long Offset, string Reason);

/// <summary>The log and what was recovered from it; deconstructs as <c>var (log, recovery) = WriteAheadLog.Open(...)</c>.</summary>
public sealed record WalOpenResult(WriteAheadLog Log, WalRecovery Recovery);
