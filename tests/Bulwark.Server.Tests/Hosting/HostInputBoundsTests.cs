using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using static Bulwark.Server.Tests.Hosting.NodeHostClusterTests;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// While the node loop is stuck (here: a stalled disk holds it inside fdatasync), client requests queue for it: the
/// queue is bounded, so requests beyond it are refused at once with etcd's "too many requests", and a request whose
/// caller gave up before the loop reached it is dropped rather than proposed.
/// </summary>
public sealed class HostInputBoundsTests
{
    [Fact]
    public async Task A_request_whose_caller_gave_up_while_the_loop_was_stalled_is_never_proposed()
    {
        await using var cluster = new LocalCluster(1);
        using var disk = new StallingFileSystem();
        var node = await StartStalledAsync(cluster, disk);

        using var giveUp = new CancellationTokenSource();
        var abandoned = node.ProposeAsync(Put("abandoned", "x"), giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        disk.Resume();
        Assert.True((await node.ProposeAsync(Put("later", "y"))).Succeeded);
        Assert.Equal("y", Get(node, "later"));
        Assert.Null(Get(node, "abandoned"));
    }

    [Fact]
    public async Task Requests_beyond_the_queue_bound_are_refused_at_once_with_too_many_requests()
    {
        await using var cluster = new LocalCluster(1, adjust: o => o with { MaxQueuedRequests = 4 });
        using var disk = new StallingFileSystem();
        var node = await StartStalledAsync(cluster, disk);

        var calls = Enumerable.Range(0, 10).Select(i => node.ProposeAsync(Put($"k{i}", "v"))).ToList();
        await LocalCluster.EventuallyAsync(() => calls.Count(c => c.IsFaulted) == 6, "the six requests beyond the bound are refused");
        Assert.All(calls.Take(4), c => Assert.False(c.IsCompleted, "a queued request waits for the loop"));
        foreach (var refused in calls.Skip(4))
        {
            var error = Assert.IsType<NodeException>(refused.Exception!.InnerException);
            Assert.Equal(NodeError.TooManyRequests, error.Error);
            var status = NodeErrorStatus.For(error); // what a client is answered
            Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, status.StatusCode);
            Assert.Equal(NodeErrorStatus.TooManyRequestsMessage, status.Detail);
        }

        disk.Resume();
        foreach (var queued in calls.Take(4))
        {
            Assert.True((await queued).Succeeded);
        }

        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(i < 4 ? "v" : null, Get(node, $"k{i}")));
    }

    /// <summary>
    /// Starts the only node on <paramref name="disk"/>, waits until it leads and published itself, then stalls the disk
    /// under one write (which the loop is left persisting) and returns the node.
    /// </summary>
    internal static async Task<NodeHost> StartStalledAsync(LocalCluster cluster, StallingFileSystem disk)
    {
        var node = cluster.Start(0, disk);
        await cluster.WaitForLeaderAsync();
        Assert.True((await node.ProposeAsync(Put("before", "v"))).Succeeded);
        await LocalCluster.EventuallyAsync(() => node.Members.All(m => m.ClientUrls.Count == 1), "the node published its client URL");

        disk.Stall();
        _ = node.ProposeAsync(Put("stuck", "v"));
        Assert.True(await disk.WaitForStalledSyncAsync(LocalCluster.Patience), "the loop is stuck persisting a write");
        return node;
    }
}
