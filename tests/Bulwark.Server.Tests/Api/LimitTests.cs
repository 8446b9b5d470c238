using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>Every limit returns etcd's status code and message over gRPC and changes nothing on any node.</summary>
public sealed class LimitTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Bad_requests_get_etcd_errors_and_change_nothing()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var kv = cluster.Kv(follower);
        var first = await kv.PutAsync(new PutRequest { Key = B("base"), Value = B("1") });
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("base"), Value = B("2") });
        var compactTo = (await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("base"), Value = B("3") })).Header.Revision;
        await cluster.Kv(leader).CompactAsync(new CompactionRequest { Revision = compactTo });
        await cluster.Nodes.WaitForConvergenceAsync(leader);
        var revisionBefore = Revisions(cluster);

        var cases = new (string Name, Func<Task> Call, StatusCode Code, string Message)[]
        {
            ("empty key put", () => kv.PutAsync(new PutRequest { Value = B("v") }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key is not provided"),
            ("empty key range", () => kv.RangeAsync(new RangeRequest()).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key is not provided"),
            ("empty key delete", () => kv.DeleteRangeAsync(new DeleteRangeRequest()).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key is not provided"),
            ("request too large", () => kv.PutAsync(new PutRequest { Key = B("big"), Value = ByteString.CopyFrom(new byte[KvLimits.DefaultMaxRequestBytes + 1]) }).ResponseAsync,
                StatusCode.InvalidArgument, "etcdserver: request is too large"),
            ("too many txn ops", () => kv.TxnAsync(TxnOfPuts(KvLimits.DefaultMaxTxnOps + 1)).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: too many operations in txn request"),
            ("duplicate txn keys", () => kv.TxnAsync(new TxnRequest
            {
                Success =
                {
                    new RequestOp { RequestPut = new PutRequest { Key = B("dup"), Value = B("1") } },
                    new RequestOp { RequestPut = new PutRequest { Key = B("dup"), Value = B("2") } },
                },
            }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request"),
            ("compacted revision", () => kv.RangeAsync(new RangeRequest { Key = B("base"), Revision = first.Header.Revision }).ResponseAsync,
                StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"),
            ("future revision", () => kv.RangeAsync(new RangeRequest { Key = B("base"), Revision = compactTo + 1000 }).ResponseAsync,
                StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"),
            ("compact to a future revision", () => kv.CompactAsync(new CompactionRequest { Revision = compactTo + 1000 }).ResponseAsync,
                StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"),
            ("compact again to a compacted revision", () => kv.CompactAsync(new CompactionRequest { Revision = first.Header.Revision }).ResponseAsync,
                StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"),
        };

        foreach (var (name, call, code, message) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(code == error.StatusCode, $"{name}: expected {code}, got {error.StatusCode} ({error.Status.Detail})");
            Assert.True(message == error.Status.Detail, $"{name}: expected '{message}', got '{error.Status.Detail}'");
        }

        // A no-op marker write: once it is applied everywhere, any refused request that had slipped into the log would be too.
        var marker = await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("marker"), Value = B("m") });
        await cluster.Nodes.WaitForConvergenceAsync(leader);
        foreach (var i in cluster.Nodes.Running)
        {
            Assert.Equal(revisionBefore[i] + 1, cluster.Nodes.Node(i).Read(s => s.Revision));
            Assert.Equal(marker.Header.Revision, cluster.Nodes.Node(i).Read(s => s.Revision));
            var keys = cluster.Nodes.Node(i).Read(s => s.Range(new RangeRequest { Key = B("\0"), RangeEnd = ByteString.CopyFrom(0) }))
                .Kvs.Select(x => x.Key.ToStringUtf8()).Order().ToList();
            Assert.Equal(["base", "marker"], keys);
        }
    }

    private static Dictionary<int, long> Revisions(ApiCluster cluster) =>
        cluster.Nodes.Running.ToDictionary(i => i, i => cluster.Nodes.Node(i).Read(s => s.Revision));

    private static TxnRequest TxnOfPuts(int count)
    {
        var txn = new TxnRequest();
        for (var i = 0; i < count; i++)
        {
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B($"op{i}"), Value = B("v") } });
        }

        return txn;
    }
}
