using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Hosting;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// The replicated CORRUPT alarm through Maintenance.Alarm on a 3-node cluster with real gRPC: raised and disarmed
/// through the log, listed and enforced by every member, kept across a restart from a snapshot, refused for an unknown
/// member; and the corruption check run in-process against a member damaged by the test-only hook, the leader itself.
/// </summary>
public sealed class CorruptAlarmApiTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static AlarmRequest Corrupt(AlarmRequest.Types.AlarmAction action, ulong member) =>
        new() { Action = action, MemberID = member, Alarm = AlarmType.Corrupt };

    private static async Task<IReadOnlyList<AlarmMember>> ListAsync(ApiCluster cluster, int i) =>
        (await cluster.Maintenance(i).AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get })).Alarms;

    [Fact]
    public async Task Activating_corrupt_is_replicated_refuses_writes_everywhere_and_disarm_lifts_it()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var named = cluster.Nodes.Node((leader + 2) % 3).MemberId;
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("k"), Value = B("v") });

        // An id the cluster does not have: etcd's "member not found", and nothing is raised.
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await cluster.Maintenance(follower).AlarmAsync(Corrupt(AlarmRequest.Types.AlarmAction.Activate, 12345)));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("etcdserver: member not found", unknown.Status.Detail);
        Assert.Empty(await ListAsync(cluster, follower));

        // Raised through a follower (forwarded through the log): it answers with the alarm, every member lists it.
        var raised = await cluster.Maintenance(follower).AlarmAsync(Corrupt(AlarmRequest.Types.AlarmAction.Activate, named));
        Assert.Equal([new AlarmMember { MemberID = named, Alarm = AlarmType.Corrupt }], raised.Alarms);
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Status.CorruptAlarm), "every member applied the alarm");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal([new AlarmMember { MemberID = named, Alarm = AlarmType.Corrupt }], await ListAsync(cluster, i));
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await cluster.Kv(i).PutAsync(new PutRequest { Key = B("k"), Value = B("w") }));
            Assert.Equal(StatusCode.DataLoss, refused.StatusCode);
            Assert.Equal("etcdserver: corrupt cluster", refused.Status.Detail);
            // Reads are served.
            Assert.Equal("v", (await cluster.Kv(i).RangeAsync(new RangeRequest { Key = B("k"), Serializable = true })).Kvs[0].Value.ToStringUtf8());
        }

        // Disarming another member's alarm through any member clears it everywhere.
        var cleared = await cluster.Maintenance(leader).AlarmAsync(Corrupt(AlarmRequest.Types.AlarmAction.Deactivate, named));
        Assert.Single(cleared.Alarms);
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => !cluster.Nodes.Node(i).Status.CorruptAlarm), "every member applied the disarm");
        Assert.Equal(3, (await cluster.Kv(follower).PutAsync(new PutRequest { Key = B("k"), Value = B("w") })).Header.Revision);
    }

    [Fact]
    public async Task The_alarm_outlives_a_restart_from_a_snapshot()
    {
        await using var cluster = new ApiCluster(snapshotThreshold: 4);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var member = cluster.Nodes.Node(leader).MemberId;
        var maintenance = cluster.Maintenance(leader);
        // Enough alarm entries that every member writes a snapshot after the alarm was last raised.
        for (var round = 0; round < 3; round++)
        {
            await maintenance.AlarmAsync(Corrupt(AlarmRequest.Types.AlarmAction.Deactivate, member));
            await maintenance.AlarmAsync(Corrupt(AlarmRequest.Types.AlarmAction.Activate, member));
        }

        var restarted = (leader + 1) % 3;
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(restarted).Status.SnapshotIndex >= cluster.Nodes.Node(leader).Status.Applied - 3
            && cluster.Nodes.Node(restarted).Status.CorruptAlarm, "the follower took a snapshot holding the alarm");
        var snapshotIndex = cluster.Nodes.Node(restarted).Status.SnapshotIndex;
        // The snapshot may be up to 3 entries behind the last alarm change (a deactivate and the activate after it): look
        // once the restarted member applied everything the leader had, or it may be seen between the two (seen failing).
        var lastChange = cluster.Nodes.Node(leader).Status.Applied;
        await cluster.StopAsync(restarted);
        await cluster.StartAsync(restarted);
        // The restarted member restores its snapshot on its apply worker: look once it has got that far (CI once looked sooner).
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(restarted).Status.Applied >= Math.Max(snapshotIndex, lastChange), "the restarted member restored its snapshot and caught up");
        Assert.Equal([new ReplicatedAlarm(member, AlarmType.Corrupt)], cluster.Nodes.Node(restarted).ReplicatedAlarms);
        Assert.True(cluster.Nodes.Node(restarted).Status.CorruptAlarm);
        Assert.Equal([new AlarmMember { MemberID = member, Alarm = AlarmType.Corrupt }], await ListAsync(cluster, restarted));
    }

    [Fact]
    public async Task The_check_names_a_corrupted_leader_and_raises_the_alarm_for_it()
    {
        // Node 0 corrupts its own copy of "victim" once applied; it is made leader, so it is the odd one out.
        await using var cluster = new ApiCluster(adjust: o => o.NodeId == Bulwark.Server.Hosting.ClusterMember.IdFromName("n1")
            ? o with { TestOnlyCorruptKey = "victim"u8.ToArray() }
            : o);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        if (leader != 0)
        {
            Assert.True(await cluster.Nodes.Node(leader).TransferLeadershipAsync(cluster.Nodes.Node(0).MemberId));
            await LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(0).Status.IsLeader, "n1 leads");
        }

        var node = cluster.Nodes.Node(0);
        await LocalCluster.EventuallyAsync(() => node.Members.All(m => m.ClientUrls.Count > 0), "every member published its client URL");
        using var peers = new PeerHashClient();
        await using var check = new CorruptionCheck(node, TimeSpan.Zero, peers, NullLogger.Instance);

        var before = await check.CheckOnceAsync(CancellationToken.None);
        Assert.True(before.Consistent);
        Assert.Equal(2, before.Compared);

        var put = await cluster.Kv(0).PutAsync(new PutRequest { Key = B("victim"), Value = B("healthy") });
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Read(s => s.Revision) >= put.Header.Revision), "every member applied the put");
        var verdict = await check.CheckOnceAsync(CancellationToken.None);
        var corrupt = Assert.Single(verdict.Corrupted);
        Assert.Equal(node.MemberId, corrupt.MemberId);
        Assert.Contains("majority", corrupt.Reason, StringComparison.Ordinal);
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).ReplicatedAlarms.SequenceEqual([new ReplicatedAlarm(node.MemberId, AlarmType.Corrupt)])),
            "every member holds the alarm for n1");
    }
}
