using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;
using static Bulwark.Server.Tests.Hosting.NodeHostClusterTests;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// Defragment on a member whose disk has no room for the snapshot fails with <see cref="DiskFullException"/> and changes
/// nothing: no alarm, no file left, the member keeps serving reads and writes; with room again it succeeds.
/// </summary>
public sealed class DefragmentDiskFullTests
{
    private static readonly string Value = new('v', 500);

    [Fact]
    public async Task A_defragment_without_room_for_the_snapshot_fails_clearly_and_the_member_keeps_serving()
    {
        await using var cluster = new LocalCluster(1, snapshotThreshold: 1_000_000,
            adjust: o => o with { Wal = new WalOptions { SegmentSize = 256 * 1024, WriteBufferSize = 4096 }, SnapshotCatchUpEntries = 5 });
        var fs = new InMemoryFileSystem(seed: 5);
        var node = cluster.Start(0, fs);
        await cluster.WaitForLeaderAsync();
        for (var i = 0; i < 40; i++)
        {
            Assert.True((await node.ProposeAsync(Put($"k{i % 4}", $"{i}:{Value}"))).Succeeded);
        }

        var snapDir = Path.Combine(cluster.Options[0].DataDir, "snap");
        fs.CapacityBytes = fs.UsedBytes; // the WAL's preallocated segment has room; a new snapshot file does not
        var diskBefore = node.DiskBytes;

        var error = await Assert.ThrowsAsync<DiskFullException>(() => node.DefragmentAsync());
        Assert.Contains("snapshot", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(node.NoSpaceAlarm);
        Assert.Empty(fs.ListFiles(snapDir));
        Assert.Equal(diskBefore, node.DiskBytes);

        // Still serving: a write (into the preallocated segment) and reads.
        Assert.True((await node.ProposeAsync(Put("after-failure", "x"))).Succeeded);
        Assert.Equal("x", Get(node, "after-failure"));
        Assert.Equal($"39:{Value}", Get(node, "k3"));

        fs.CapacityBytes = null;
        var appliedBefore = node.Status.Applied;
        var report = await node.DefragmentAsync();
        Assert.InRange(report.SnapshotIndex, appliedBefore, node.Status.Applied); // everything applied when it was asked
        Assert.Single(fs.ListFiles(snapDir));
        Assert.Equal("x", Get(node, "after-failure"));
    }
}
