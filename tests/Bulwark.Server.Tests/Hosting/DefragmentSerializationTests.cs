using Bulwark.Server.Hosting;
using static Bulwark.Server.Tests.Hosting.NodeHostClusterTests;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// Two defragments at once on one member run one after the other, and while one writes its snapshot the store stays
/// readable (the snapshot is written without the store lock); writes committed meanwhile are applied once it is done.
/// Run at once, the second would ask for its snapshot before the write was queued and reuse the first's (one snapshot
/// write, the same index); run after the first, it snapshots the write too.
/// </summary>
public sealed class DefragmentSerializationTests
{
    [Fact]
    public async Task A_second_defragment_waits_for_the_first_and_reads_go_on_while_the_snapshot_is_written()
    {
        await using var cluster = new LocalCluster(1, snapshotThreshold: 1_000_000);
        var node = cluster.Start(0);
        await cluster.WaitForLeaderAsync();
        Assert.True((await node.ProposeAsync(Put("k", "v1"))).Succeeded);

        var writes = 0;
        ulong heldAt = 0;
        using var holding = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim(false);
        node.BeforeSnapshotWrite = index =>
        {
            Volatile.Write(ref heldAt, index);
            Interlocked.Increment(ref writes);
            holding.Release();
            release.Wait(LocalCluster.Patience);
        };

        var first = node.DefragmentAsync();
        Assert.True(await holding.WaitAsync(LocalCluster.Patience), "the first defragment never reached its snapshot");
        var second = node.DefragmentAsync();
        var write = node.ProposeAsync(Put("k", "v2"));

        // The first is held inside its snapshot write: the second has not started one, and reads are served.
        Assert.False(await holding.WaitAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, Volatile.Read(ref writes));
        Assert.False(second.IsCompleted);
        Assert.Equal("v1", Get(node, "k"));

        // The write is committed (and queued for the apply thread, behind the snapshot) before the first is let go.
        await LocalCluster.EventuallyAsync(() => node.Status.Commit > Volatile.Read(ref heldAt), "the write committed");
        release.Set();
        var firstReport = await first;
        var secondReport = await second;
        Assert.True((await write).Succeeded);
        Assert.Equal(2, Volatile.Read(ref writes));
        Assert.True(secondReport.SnapshotIndex > firstReport.SnapshotIndex, $"{firstReport.SnapshotIndex} then {secondReport.SnapshotIndex}");
        Assert.Equal("v2", Get(node, "k"));
    }
}
