using Bulwark.EndToEnd.Tests.Processes;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// The NuGet client dotnet-etcd (its own generated etcd protos, its own channel handling) against a real 3-process
/// Bulwark cluster: Put, Range, Txn and DeleteRange.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DotnetEtcdTests(SharedCluster shared)
{
    [Fact]
    public async Task PutRangeTxnAndDeleteRangeWork()
    {
        var cluster = shared.Cluster;
        using var client = new EtcdClient(cluster.Endpoints, configureChannelOptions: options => options.Credentials = ChannelCredentials.Insecure);
        var deadline = () => DateTime.UtcNow.AddSeconds(30);

        var put = await client.PutAsync("net/a", "alpha", deadline: deadline());
        await client.PutAsync("net/b", "beta", deadline: deadline());
        await client.PutAsync("net/c", "gamma", deadline: deadline());
        Assert.True(put.Header.Revision > 0);

        Assert.Equal("alpha", await client.GetValAsync("net/a", deadline: deadline()));
        var range = await client.GetRangeAsync("net/", deadline: deadline());
        Assert.Equal(["net/a", "net/b", "net/c"], range.Kvs.Select(kv => kv.Key.ToStringUtf8()));
        Assert.Equal(put.Header.Revision, range.Kvs[0].ModRevision);
        Assert.Equal(3, range.Count);
        var values = await client.GetRangeValAsync("net/", deadline: deadline());
        Assert.Equal("gamma", values["net/c"]);

        var txn = new TxnRequest();
        txn.Compare.Add(new Compare
        {
            Key = ByteString.CopyFromUtf8("net/a"),
            Result = Compare.Types.CompareResult.Equal,
            Target = Compare.Types.CompareTarget.Value,
            Value = ByteString.CopyFromUtf8("alpha"),
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("net/a"), Value = ByteString.CopyFromUtf8("ALPHA") } });
        txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("net/b") } });
        txn.Failure.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("net/a") } });
        var succeeded = await client.TransactionAsync(txn, deadline: deadline());
        Assert.True(succeeded.Succeeded);
        Assert.Equal("beta", succeeded.Responses[1].ResponseRange.Kvs[0].Value.ToStringUtf8());
        Assert.Equal("ALPHA", await client.GetValAsync("net/a", deadline: deadline()));

        // The same txn again: the compare now fails, so the else branch deletes the key.
        var failed = await client.TransactionAsync(txn, deadline: deadline());
        Assert.False(failed.Succeeded);
        Assert.Equal(1, failed.Responses[0].ResponseDeleteRange.Deleted);
        Assert.Equal("", await client.GetValAsync("net/a", deadline: deadline()));

        var deleted = await client.DeleteRangeAsync("net/", deadline: deadline());
        Assert.Equal(2, deleted.Deleted);
        Assert.Empty((await client.GetRangeAsync("net/", deadline: deadline())).Kvs);
    }
}
