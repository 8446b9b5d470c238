using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Server.Hosting;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>Three node hosts in-process on loopback with real WALs, snapshots and sockets.</summary>
public sealed class NodeHostClusterTests
{
    [Fact]
    public async Task Writes_through_leader_and_follower_replicate_and_survive_leader_loss_and_restart()
    {
        await using var cluster = new LocalCluster(3, snapshotThreshold: 25);
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;

        var viaLeader = await cluster.Node(leader).ProposeAsync(Put("via-leader", "1"));
        Assert.True(viaLeader.Succeeded);
        var viaFollower = await cluster.Node(follower).ProposeAsync(Put("via-follower", "2"));
        Assert.True(viaFollower.Succeeded, viaFollower.Error?.Message);
        Assert.True(viaFollower.Revision > viaLeader.Revision);

        // A linearizable read on a follower sees the write just acknowledged through the leader.
        var other = (leader + 2) % 3;
        await cluster.Node(leader).ProposeAsync(Put("fresh", "3"));
        await cluster.Node(other).LinearizableBarrierAsync();
        Assert.Equal("3", Get(cluster.Node(other), "fresh"));

        var acknowledged = new List<string> { "via-leader", "via-follower", "fresh" };
        for (var i = 0; i < 40; i++)
        {
            var key = $"before-{i}";
            Assert.True((await cluster.Node(i % 2 == 0 ? leader : follower).ProposeAsync(Put(key, key))).Succeeded);
            acknowledged.Add(key);
        }

        // Stop the leader while writes continue through a survivor.
        using var stopWriting = new CancellationTokenSource();
        var survivor = follower;
        var writer = Task.Run(async () =>
        {
            var n = 0;
            while (!stopWriting.IsCancellationRequested)
            {
                var key = $"during-{n++}";
                try
                {
                    var result = await cluster.Node(survivor).ProposeAsync(Put(key, key));
                    if (result.Succeeded)
                    {
                        lock (acknowledged)
                        {
                            acknowledged.Add(key);
                        }
                    }
                }
                catch (NodeException)
                {
                    await Task.Delay(20);
                }
            }
        });

        // The leader is stopped with writes in flight: once some went through the survivor before it.
        await LocalCluster.EventuallyAsync(() => { lock (acknowledged) { return acknowledged.Any(k => k.StartsWith("during-", StringComparison.Ordinal)); } }, "writes acknowledged before the stop");
        await cluster.StopAsync(leader);
        var newLeader = await cluster.WaitForLeaderAsync();
        Assert.NotEqual(leader, newLeader);
        await LocalCluster.EventuallyAsync(() => { lock (acknowledged) { return acknowledged.Any(k => k.StartsWith("during-", StringComparison.Ordinal)) && acknowledged.Count > 80; } }, "writes acknowledged under the new leader");
        await stopWriting.CancelAsync();
        await writer;

        // The old leader restarts from its data dir and catches up (from the log's kept tail behind the snapshots).
        cluster.Start(leader);
        await cluster.WaitForLeaderAsync();
        var last = await cluster.Node(newLeader).ProposeAsync(Put("after-restart", "x"));
        Assert.True(last.Succeeded);
        acknowledged.Add("after-restart");
        await cluster.WaitForConvergenceAsync(newLeader);

        foreach (var i in cluster.Running)
        {
            var keys = cluster.Node(i).Read(store => store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8("\0"), RangeEnd = ByteString.CopyFrom(0) }))
                .Kvs.Select(kv => kv.Key.ToStringUtf8()).ToHashSet();
            var missing = acknowledged.Where(k => !keys.Contains(k)).ToList();
            Assert.True(missing.Count == 0, $"node {i} misses acknowledged keys: {string.Join(", ", missing.Take(10))}");
            Assert.True(cluster.Node(i).Status.SnapshotIndex > 0, $"node {i} never took or installed a snapshot");
        }

        // Every member published its client URL through the log.
        await LocalCluster.EventuallyAsync(
            () => cluster.Running.All(i => cluster.Node(i).Members.All(m => m.ClientUrls.Count == 1)),
            "every node knows every member's client URL");
    }

    [Fact]
    public async Task A_lone_node_without_quorum_answers_no_leader_and_writes_nothing()
    {
        await using var cluster = new LocalCluster(3);
        cluster.Start(0);
        var error = await Assert.ThrowsAsync<NodeException>(() => cluster.Node(0).ProposeAsync(Put("k", "v")));
        Assert.Equal(NodeError.NoLeader, error.Error);
        var status = Bulwark.Server.Api.NodeErrorStatus.For(error); // what a client is answered
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, status.StatusCode);
        Assert.Equal(Bulwark.Server.Api.NodeErrorStatus.NoLeaderMessage, status.Detail);
        Assert.Equal(0, cluster.Node(0).Read(s => s.Revision) - 1);
    }

    internal static RaftCommand Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    internal static string? Get(NodeHost node, string key) =>
        node.Read(store => store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(key) })).Kvs.FirstOrDefault()?.Value.ToStringUtf8();
}
