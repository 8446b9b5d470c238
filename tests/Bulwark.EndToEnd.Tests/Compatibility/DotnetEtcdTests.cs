using Bulwark.EndToEnd.Tests.Processes;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// The NuGet client dotnet-etcd (its own generated etcd protos, its own channel handling) against a real 3-process
/// Bulwark cluster: Put, Range, Txn and DeleteRange; Watch; lease grant and keep-alive.
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

    [Fact]
    public async Task WatchAndLeaseKeepAliveWork()
    {
        var cluster = shared.Cluster;
        using var client = new EtcdClient(cluster.Endpoints, configureChannelOptions: options => options.Credentials = ChannelCredentials.Insecure);
        var deadline = () => DateTime.UtcNow.AddSeconds(30);
        var events = new System.Collections.Concurrent.ConcurrentQueue<Mvccpb.Event>();
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var start = await client.PutAsync("netw/seed", "0", deadline: deadline());
        var watching = Task.Run(() => client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("netw/"), RangeEnd = ByteString.CopyFromUtf8("netw0"), StartRevision = start.Header.Revision } },
            (WatchResponse response) =>
            {
                if (response.Created)
                {
                    created.TrySetResult();
                }

                foreach (var ev in response.Events)
                {
                    events.Enqueue(ev);
                }
            },
            cancellationToken: stop.Token));
        await created.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // A lease kept alive by the library's own keep-alive loop, with a key on it.
        var lease = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 5 }, deadline: deadline());
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("netw/leased"), Value = ByteString.CopyFromUtf8("v"), Lease = lease.ID }, deadline: deadline());
        var keepAlive = Task.Run(() => client.LeaseKeepAlive(lease.ID, stop.Token));
        await client.PutAsync("netw/b", "1", deadline: deadline());
        await client.DeleteAsync("netw/b", deadline: deadline());

        var until = DateTime.UtcNow.AddSeconds(60);
        while (events.Count < 4 && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }

        Assert.Equal(
            ["PUT netw/seed", "PUT netw/leased", "PUT netw/b", "DELETE netw/b"],
            events.Select(e => $"{(e.Type == Mvccpb.Event.Types.EventType.Put ? "PUT" : "DELETE")} {e.Kv.Key.ToStringUtf8()}"));
        // Past the lease's TTL, the library's keep-alives have held it: the key is still there.
        await Task.Delay(TimeSpan.FromSeconds(lease.TTL + 1));
        var ttl = await client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID }, deadline: deadline());
        Assert.True(ttl.TTL > 0, $"the kept lease reports TTL {ttl.TTL}");
        Assert.Equal("v", await client.GetValAsync("netw/leased", deadline: deadline()));
        await stop.CancelAsync();
        await Task.WhenAny(Task.WhenAll(watching, keepAlive), Task.Delay(TimeSpan.FromSeconds(30)));
    }
}
