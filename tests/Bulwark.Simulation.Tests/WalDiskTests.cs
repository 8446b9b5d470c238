using Bulwark.Consensus;
using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

public sealed class WalDiskTests
{
    private static Entry E(ulong index, ulong term) => new(term, index, EntryType.Normal, new byte[] { (byte)index });

    private static WalDisk Fresh()
    {
        var disk = new WalDisk(1);
        disk.InstallSnapshot(new SnapshotMetadata(0, 0, ClusterConfig.Of(1, 2, 3)), ReadOnlyMemory<byte>.Empty);
        disk.Sync();
        return disk;
    }

    [Fact]
    public void SyncedEntriesAndHardStateSurviveACrashOnTheRealLog()
    {
        var disk = Fresh();
        disk.Append([E(1, 1), E(2, 1)]);
        disk.WriteHardState(new HardState(1, 1, 2));
        disk.Sync();
        disk.Append([E(3, 1)]);
        disk.Crash(new DeterministicRandom(1), mayPersistUnsynced: false, mayTear: false);
        var image = disk.Recover();
        Assert.Equal(2UL, image.LastIndex);
        Assert.Equal(new HardState(1, 1, 2), image.HardState);
        Assert.Equal(ClusterConfig.Of(1, 2, 3), image.Snapshot!.Config);
    }

    [Fact]
    public void ASavedSnapshotReleasesTheLogAndSurvives()
    {
        var disk = Fresh();
        disk.Append([E(1, 1), E(2, 1), E(3, 1)]);
        disk.Sync();
        disk.SaveSnapshot(new SnapshotMetadata(2, 1, ClusterConfig.Of(1, 2, 3)), new byte[] { 42 });
        disk.Crash(new DeterministicRandom(2), mayPersistUnsynced: false, mayTear: false);
        var image = disk.Recover();
        Assert.Equal(2UL, image.Snapshot!.Index);
        Assert.Equal(new byte[] { 42 }, image.SnapshotData);
        Assert.Equal([3UL], image.Entries.Select(e => e.Index));
        Assert.True(image.HardState.Commit >= 2);
    }
}
