using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Api;

/// <summary>The etcd v3 KV, Maintenance.Status and Cluster.MemberList services over real gRPC on a 3-node cluster.</summary>
public sealed class KvApiTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Kv_operations_through_leader_and_follower()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var leaderKv = cluster.Kv(leader);
        var followerKv = cluster.Kv(follower);

        var put1 = await leaderKv.PutAsync(new PutRequest { Key = B("a"), Value = B("1") });
        var put2 = await followerKv.PutAsync(new PutRequest { Key = B("b"), Value = B("2"), PrevKv = true });
        Assert.True(put2.Header.Revision > put1.Header.Revision);
        Assert.Null(put2.PrevKv);
        Assert.Equal(cluster.Nodes.Node(follower).MemberId, put2.Header.MemberId);
        Assert.Equal(cluster.Nodes.Node(leader).ClusterId, put2.Header.ClusterId);
        Assert.True(put2.Header.RaftTerm > 0);

        // Linearizable read on the other follower sees both writes at once; a serializable read is answered locally.
        var other = (leader + 2) % 3;
        var linear = await cluster.Kv(other).RangeAsync(new RangeRequest { Key = B("a"), RangeEnd = B("c") });
        Assert.Equal(["1", "2"], linear.Kvs.Select(kv => kv.Value.ToStringUtf8()));
        Assert.Equal(put2.Header.Revision, linear.Header.Revision);
        await cluster.Nodes.WaitForConvergenceAsync(leader);
        var serial = await cluster.Kv(other).RangeAsync(new RangeRequest { Key = B("b"), Serializable = true });
        Assert.Equal("2", serial.Kvs.Single().Value.ToStringUtf8());

        // Txn: compare on value, then/else branches, through a follower.
        var txn = await followerKv.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = B("a"), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = B("a"), Value = B("10") } } },
            Failure = { new RequestOp { RequestPut = new PutRequest { Key = B("a"), Value = B("failed") } } },
        });
        Assert.True(txn.Succeeded);
        var txn2 = await leaderKv.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = B("a"), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = B("a"), Value = B("wrong") } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = B("a") } } },
        });
        Assert.False(txn2.Succeeded);
        Assert.Equal("10", txn2.Responses.Single().ResponseRange.Kvs.Single().Value.ToStringUtf8());

        // A read-only txn is answered from a confirmed read point without entering the log. Every member first publishes
        // its name and client URLs through the log (a loaded machine may delay that past this point, CI run 4 of session
        // 4): wait for it, so no entry is appended meanwhile except one the txn would have caused.
        await Hosting.LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Members.All(m => m.ClientUrls.Count > 0)), "client URLs published");
        await cluster.Nodes.WaitForConvergenceAsync(leader);
        var before = cluster.Nodes.Node(leader).Status.LastIndex;
        var readOnly = await cluster.Kv(other).TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = B("a"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 } },
            Success = { new RequestOp { RequestRange = new RangeRequest { Key = B("a") } } },
        });
        Assert.True(readOnly.Succeeded);
        Assert.Equal("10", readOnly.Responses.Single().ResponseRange.Kvs.Single().Value.ToStringUtf8());
        Assert.Equal(txn.Header.Revision, readOnly.Header.Revision);
        Assert.Equal(before, cluster.Nodes.Node(leader).Status.LastIndex);

        // Delete, then compact below the delete: the old revision is gone, the current one reads fine.
        var del = await followerKv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("b"), PrevKv = true });
        Assert.Equal(1, del.Deleted);
        Assert.Equal("2", del.PrevKvs.Single().Value.ToStringUtf8());
        await leaderKv.CompactAsync(new CompactionRequest { Revision = del.Header.Revision });
        var compacted = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await followerKv.RangeAsync(new RangeRequest { Key = B("a"), Revision = put1.Header.Revision }));
        Assert.Equal(Grpc.Core.StatusCode.OutOfRange, compacted.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", compacted.Status.Detail);
        var now = await followerKv.RangeAsync(new RangeRequest { Key = B("a"), RangeEnd = B("c") });
        Assert.Equal(["10"], now.Kvs.Select(kv => kv.Value.ToStringUtf8()));

        // Status and MemberList, as clients call them on connect.
        var status = await cluster.Maintenance(follower).StatusAsync(new StatusRequest());
        Assert.Equal(cluster.Nodes.Node(leader).MemberId, status.Leader);
        Assert.True(status.RaftAppliedIndex > 0);
        Assert.True(status.RaftIndex >= status.RaftAppliedIndex);
        Assert.Equal(cluster.Nodes.Node(follower).MemberId, status.Header.MemberId);
        Assert.False(string.IsNullOrEmpty(status.Version));
        await Hosting.LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Members.All(m => m.ClientUrls.Count > 0)), "client URLs published");
        var members = await cluster.Cluster(other).MemberListAsync(new MemberListRequest());
        Assert.Equal(3, members.Members.Count);
        foreach (var member in members.Members)
        {
            var index = cluster.Nodes.Members.ToList().FindIndex(m => m.Id == member.ID);
            Assert.Equal(cluster.Nodes.Members[index].Name, member.Name);
            Assert.Equal(cluster.Nodes.Members[index].PeerUrls, member.PeerURLs);
            Assert.Equal([cluster.Nodes.ClientUrls[index]], member.ClientURLs);
        }
    }

    [Fact]
    public async Task Stopping_the_leader_under_writes_elects_a_new_leader_that_serves_writes()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var survivor = (leader + 1) % 3;
        var kv = cluster.Kv(survivor);
        var acknowledged = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            await kv.PutAsync(new PutRequest { Key = B($"k{i}"), Value = B("v") });
            acknowledged.Add($"k{i}");
        }

        await cluster.StopAsync(leader);
        var next = 10;
        await Hosting.LocalCluster.EventuallyAsync(() =>
        {
            try
            {
                kv.Put(new PutRequest { Key = B($"k{next}"), Value = B("v") }, deadline: DateTime.UtcNow.AddSeconds(6));
                acknowledged.Add($"k{next++}");
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode is Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded)
            {
            }

            return next >= 15;
        }, "writes through the new leader");
        var newLeader = await cluster.Nodes.WaitForLeaderAsync();
        Assert.NotEqual(leader, newLeader);

        await cluster.StartAsync(leader);
        await cluster.Nodes.WaitForLeaderAsync();
        await cluster.Nodes.WaitForConvergenceAsync(newLeader);
        var all = await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = B("k"), RangeEnd = B("l") });
        Assert.Equal(acknowledged.Order(), all.Kvs.Select(x => x.Key.ToStringUtf8()).Order());
    }
}
