using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// Read-only Txns through the etcd API, served locally after a read barrier, while the member writes a snapshot every
/// few entries: no member may stop (KvService once ran them as writes, which made a concurrent snapshot fail-stop the node).
/// </summary>
public sealed class ReadOnlyTxnApiTests
{
    [Fact]
    public async Task Read_only_txns_through_the_api_during_snapshots_keep_the_member_up()
    {
        await using var cluster = new ApiCluster(1, snapshotThreshold: 2);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(0);
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v0") });

        var readOnly = new TxnRequest
        {
            Compare = { new Compare { Key = ByteString.CopyFromUtf8("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 } },
            Success = { new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("k") } } },
        };

        using var stopReading = new CancellationTokenSource();
        var node = cluster.Nodes.Node(0);
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stopReading.IsCancellationRequested && !node.Completion.IsCompleted)
            {
                var response = await kv.TxnAsync(readOnly);
                Assert.True(response.Succeeded);
                Assert.Single(response.Responses[0].ResponseRange.Kvs);
            }
        })).ToArray();

        try
        {
            for (var i = 1; i <= 400 && !node.Completion.IsCompleted; i++)
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8($"v{i}") });
            }
        }
        finally
        {
            await stopReading.CancelAsync();
            await Task.WhenAll(readers);
        }

        Assert.False(node.Completion.IsCompleted, $"the member stopped: {node.Completion.Exception?.InnerException}");
        Assert.True(node.Status.SnapshotIndex > 0, "no snapshot was written during the test");
    }
}
