using System.Collections.Immutable;
using Bulwark.Consensus;
using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

public sealed class MemoryDiskTests
{
    private static readonly SnapshotMetadata Base = new(0, 0, ClusterConfig.Of(1, 2, 3));

    private static Entry E(ulong index, ulong term, string data = "") => new(term, index, EntryType.Normal, System.Text.Encoding.UTF8.GetBytes(data));

    private static MemoryDisk Fresh()
    {
        var disk = new MemoryDisk();
        disk.InstallSnapshot(Base, ReadOnlyMemory<byte>.Empty);
        disk.Sync();
        return disk;
    }

    [Fact]
    public void SyncedWritesSurviveACrashAndUnsyncedOnesDoNot()
    {
        var disk = Fresh();
        disk.Append([E(1, 1), E(2, 1)]);
        disk.WriteHardState(new HardState(1, 2, 1));
        disk.Sync();
        disk.Append([E(3, 1)]);
        disk.WriteHardState(new HardState(2, 3, 2));
        Assert.Equal(3UL, disk.Current.LastIndex);

        disk.Crash(new DeterministicRandom(1), mayPersistUnsynced: false, mayTear: false);

        var image = disk.Recover();
        Assert.Equal(2UL, image.LastIndex);
        Assert.Equal(new HardState(1, 2, 1), image.HardState);
        Assert.Equal(image.LastIndex, disk.Current.LastIndex);
    }

    [Fact]
    public void UnsyncedWritesReachTheDiskOnlyAsAnInOrderPrefixWithAtMostTheLastTorn()
    {
        for (ulong seed = 0; seed < 200; seed++)
        {
            var disk = Fresh();
            disk.Append([E(1, 1)]);
            disk.Sync();
            disk.Append([E(2, 1), E(3, 1), E(4, 1)]);
            disk.WriteHardState(new HardState(1, 1, 4));
            disk.Crash(new DeterministicRandom(seed), mayPersistUnsynced: true, mayTear: true);
            var image = disk.Recover();
            Assert.InRange(image.LastIndex, 1UL, 4UL);
            Assert.True(image.LastIndex is 1 or 3 or 4, $"seed {seed}: last index {image.LastIndex} is neither nothing, a torn batch nor the whole batch");
            // The hard state write came after the append: it can only have survived if the whole batch did.
            Assert.True(image.HardState.Commit == 0 || image.LastIndex == 4, $"seed {seed}: commit survived without its entries");
        }
    }

    [Fact]
    public void AppendTruncatesAConflictingSuffix()
    {
        var disk = Fresh();
        disk.Append([E(1, 1), E(2, 1), E(3, 1)]);
        disk.Append([E(2, 2, "new")]);
        var entries = disk.Current.Entries;
        Assert.Equal([1UL, 2UL], entries.Select(e => e.Index));
        Assert.Equal(2UL, entries[1].Term);
    }

    [Fact]
    public void AppendWithAGapIsRejected()
    {
        var disk = Fresh();
        disk.Append([E(1, 1)]);
        var error = Assert.Throws<SimulationException>(() => disk.Append([E(3, 1)]));
        Assert.Contains("gap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SavedSnapshotKeepsLaterEntriesAndInstalledSnapshotReplacesTheLog()
    {
        var disk = Fresh();
        disk.Append([E(1, 1), E(2, 1), E(3, 1)]);
        disk.SaveSnapshot(new SnapshotMetadata(2, 1, Base.Config), new byte[] { 7 });
        disk.Sync();
        var saved = disk.Recover();
        Assert.Equal(2UL, saved.Snapshot!.Index);
        Assert.Equal([3UL], saved.Entries.Select(e => e.Index));

        disk.InstallSnapshot(new SnapshotMetadata(10, 2, Base.Config), new byte[] { 9 });
        disk.Sync();
        var installed = disk.Recover();
        Assert.Empty(installed.Entries);
        Assert.Equal(10UL, installed.LastIndex);
        Assert.Equal(new byte[] { 9 }, installed.SnapshotData);
        disk.Append([E(11, 2)]);
        Assert.Equal(11UL, disk.Current.LastIndex);
    }

    [Fact]
    public void RecoveredEntriesRebuildARaftState()
    {
        var disk = Fresh();
        disk.Append([E(1, 1)]);
        disk.Sync();
        var image = disk.Recover();
        var state = new RaftState(image.HardState, image.Snapshot, [.. image.Entries], image.Snapshot!.Index);
        Assert.Equal(ImmutableArray.Create(E(1, 1)).Length, state.Entries.Length);
    }
}
