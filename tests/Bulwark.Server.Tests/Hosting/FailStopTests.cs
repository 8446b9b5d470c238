using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>A node whose fsync fails stops for good and fails its waiting calls instead of guessing.</summary>
public sealed class FailStopTests
{
    [Fact]
    public async Task A_sync_failure_stops_the_node_and_fails_the_call()
    {
        await using var cluster = new LocalCluster(1);
        var fs = new InMemoryFileSystem(seed: 5);
        var node = cluster.Start(0, fs);
        await cluster.WaitForLeaderAsync();
        Assert.True((await node.ProposeAsync(NodeHostClusterTests.Put("before", "1"))).Succeeded);

        fs.FailSyncAfter(1);
        var error = await Assert.ThrowsAsync<NodeException>(() => node.ProposeAsync(NodeHostClusterTests.Put("after", "2")));
        Assert.Equal(NodeError.Stopped, error.Error);
        var status = Bulwark.Server.Api.NodeErrorStatus.For(error); // what a client is answered
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, status.StatusCode);
        Assert.StartsWith(Bulwark.Server.Api.NodeErrorStatus.StoppedMessage, status.Detail, StringComparison.Ordinal);

        var stopped = await Assert.ThrowsAsync<NodeFailStopException>(() => node.Completion);
        Assert.IsType<WalSyncFailedException>(stopped.InnerException);
        await Assert.ThrowsAsync<NodeException>(() => node.ProposeAsync(NodeHostClusterTests.Put("later", "3")));
    }
}
