using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Tests.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>Maintenance.HashKV and Maintenance.MoveLeader over real gRPC on a 3-node cluster, with etcd's errors.</summary>
public sealed class MaintenanceApiTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>Waits until every running member's store reached <paramref name="revision"/> (applied, not just committed).</summary>
    private static Task WaitForRevisionAsync(ApiCluster cluster, long revision) =>
        LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Read(s => s.Revision) >= revision),
            $"every running member at revision {revision}");

    private static async Task<HashKVResponse[]> HashAllAsync(ApiCluster cluster, long revision = 0)
    {
        var hashes = new List<HashKVResponse>();
        foreach (var i in cluster.Nodes.Running)
        {
            hashes.Add(await cluster.Maintenance(i).HashKVAsync(new HashKVRequest { Revision = revision }));
        }

        return [.. hashes];
    }

    [Fact]
    public async Task HashKV_is_equal_on_every_member_after_writes_and_a_compaction_and_tells_a_member_that_missed_writes()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        for (var i = 0; i < 20; i++)
        {
            await kv.PutAsync(new PutRequest { Key = B($"k{i % 7}"), Value = B($"v{i}") });
        }

        var deleted = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("k3") });
        var compactTo = deleted.Header.Revision - 5;
        await kv.CompactAsync(new CompactionRequest { Revision = compactTo });
        var last = await kv.PutAsync(new PutRequest { Key = B("after"), Value = B("compaction") });
        await WaitForRevisionAsync(cluster, last.Header.Revision);

        var hashes = await HashAllAsync(cluster);
        Assert.Equal(3, hashes.Length);
        Assert.All(hashes, h => Assert.Equal(hashes[0].Hash, h.Hash));
        Assert.All(hashes, h => Assert.Equal(last.Header.Revision, h.Header.Revision));
        Assert.All(hashes, h => Assert.Equal(last.Header.Revision, h.HashRevision));
        Assert.All(hashes, h => Assert.Equal(compactTo, h.CompactRevision));
        Assert.Equal(
            cluster.Nodes.Running.Select(i => cluster.Nodes.Node(i).MemberId).Order(),
            hashes.Select(h => h.Header.MemberId).Order());
        var atDelete = await HashAllAsync(cluster, deleted.Header.Revision);
        Assert.All(atDelete, h => Assert.Equal(atDelete[0].Hash, h.Hash));
        Assert.NotEqual(hashes[0].Hash, atDelete[0].Hash);

        // A follower that is down misses a write: the others' hash moves, and once it is back and has applied the
        // write, its hash is theirs again.
        var follower = (leader + 1) % 3;
        await cluster.StopAsync(follower);
        var missed = await kv.PutAsync(new PutRequest { Key = B("missed"), Value = B("by one") });
        await WaitForRevisionAsync(cluster, missed.Header.Revision);
        var withoutIt = await HashAllAsync(cluster);
        Assert.Equal(2, withoutIt.Length);
        Assert.All(withoutIt, h => Assert.Equal(withoutIt[0].Hash, h.Hash));
        Assert.NotEqual(hashes[0].Hash, withoutIt[0].Hash);

        await cluster.StartAsync(follower);
        await WaitForRevisionAsync(cluster, missed.Header.Revision);
        var rejoined = await cluster.Maintenance(follower).HashKVAsync(new HashKVRequest());
        Assert.Equal(withoutIt[0].Hash, rejoined.Hash);
        var rejoinedBefore = await cluster.Maintenance(follower).HashKVAsync(new HashKVRequest { Revision = last.Header.Revision });
        Assert.Equal(hashes[0].Hash, rejoinedBefore.Hash);
    }

    [Fact]
    public async Task HashKV_refuses_a_future_and_a_compacted_revision_with_etcds_errors()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        PutResponse put = null!;
        for (var i = 0; i < 5; i++)
        {
            put = await kv.PutAsync(new PutRequest { Key = B("k"), Value = B($"v{i}") });
        }

        await kv.CompactAsync(new CompactionRequest { Revision = put.Header.Revision - 1 });
        var maintenance = cluster.Maintenance(leader);
        var future = await Assert.ThrowsAsync<RpcException>(async () =>
            await maintenance.HashKVAsync(new HashKVRequest { Revision = put.Header.Revision + 100 }));
        Assert.Equal(StatusCode.OutOfRange, future.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", future.Status.Detail);

        var compacted = await Assert.ThrowsAsync<RpcException>(async () =>
            await maintenance.HashKVAsync(new HashKVRequest { Revision = put.Header.Revision - 2 }));
        Assert.Equal(StatusCode.OutOfRange, compacted.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", compacted.Status.Detail);
    }

    [Fact]
    public async Task MoveLeader_moves_leadership_to_the_target_and_every_member_agrees()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var target = (leader + 2) % 3;
        var targetId = cluster.Nodes.Node(target).MemberId;

        var response = await cluster.Maintenance(leader).MoveLeaderAsync(new MoveLeaderRequest { TargetID = targetId });
        Assert.Equal(cluster.Nodes.Node(leader).MemberId, response.Header.MemberId);
        Assert.Equal(targetId, cluster.Nodes.Node(leader).Status.Leader);
        Assert.Equal(target, await cluster.Nodes.WaitForLeaderAsync());

        // The new leader serves writes.
        var put = await cluster.Kv(target).PutAsync(new PutRequest { Key = B("after"), Value = B("move") });
        Assert.True(put.Header.Revision > 1);
    }

    [Fact]
    public async Task MoveLeader_is_refused_on_a_follower_and_for_an_unknown_target()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var other = (leader + 2) % 3;

        var notLeader = await Assert.ThrowsAsync<RpcException>(async () =>
            await cluster.Maintenance(follower).MoveLeaderAsync(new MoveLeaderRequest { TargetID = cluster.Nodes.Node(other).MemberId }));
        Assert.Equal(StatusCode.FailedPrecondition, notLeader.StatusCode);
        Assert.Equal("etcdserver: not leader", notLeader.Status.Detail);

        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await cluster.Maintenance(leader).MoveLeaderAsync(new MoveLeaderRequest { TargetID = 0xdead_beef }));
        Assert.Equal(StatusCode.FailedPrecondition, unknown.StatusCode);
        Assert.Equal("etcdserver: bad leader transferee", unknown.Status.Detail);
    }

    [Fact]
    public async Task MoveLeader_to_a_member_that_is_down_times_out_with_etcds_error()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var down = (leader + 1) % 3;
        var downId = cluster.Nodes.Node(down).MemberId;
        await cluster.StopAsync(down);

        var timeout = await Assert.ThrowsAsync<RpcException>(async () =>
            await cluster.Maintenance(leader).MoveLeaderAsync(new MoveLeaderRequest { TargetID = downId }));
        Assert.Equal(StatusCode.Unavailable, timeout.StatusCode);
        Assert.Equal("etcdserver: request timed out, leader transfer took too long", timeout.Status.Detail);
    }
}
