using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// A read-only Txn is served from the local store (as KvService does) while the apply worker writes snapshots without
/// the store lock. It must never make the node fail-stop: a read that stops a member, and every member snapshots at the
/// same index, is a whole-cluster outage.
/// </summary>
public sealed class ReadOnlyTxnDuringSnapshotTests
{
    [Fact]
    public async Task Read_only_txns_while_snapshots_are_written_do_not_stop_the_node()
    {
        await using var cluster = new LocalCluster(1, snapshotThreshold: 3);
        var node = cluster.Start(0);
        await cluster.WaitForLeaderAsync();
        Assert.True((await node.ProposeAsync(NodeHostClusterTests.Put("k", "v0"))).Succeeded);

        var readOnly = new TxnRequest
        {
            Compare = { new Compare { Key = ByteString.CopyFromUtf8("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 } },
            Success = { new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("k") } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("none") } } },
        };
        Assert.True(MvccStore.IsReadOnly(readOnly));

        using var stopReading = new CancellationTokenSource();
        var reads = 0L;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!stopReading.IsCancellationRequested && !node.Completion.IsCompleted)
            {
                var response = node.Read(store => store.ReadOnlyTxn(readOnly));
                Assert.True(response.Succeeded);
                Assert.Single(response.Responses[0].ResponseRange.Kvs);
                Interlocked.Increment(ref reads);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        try
        {
            // 300 puts at a snapshot every 3 entries: about a hundred snapshots written while the readers run.
            for (var i = 1; i <= 300 && !node.Completion.IsCompleted; i++)
            {
                var put = await node.ProposeAsync(NodeHostClusterTests.Put("k", $"v{i}"));
                Assert.True(put.Succeeded, put.Error?.Message);
            }
        }
        finally
        {
            await stopReading.CancelAsync();
            await Task.WhenAll(readers);
        }

        Assert.False(node.Completion.IsCompleted, $"the node stopped: {node.Completion.Exception?.InnerException}");
        Assert.True(Interlocked.Read(ref reads) > 0);
        Assert.True(node.Status.SnapshotIndex > 0, "no snapshot was written during the test");
    }
}
