using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Backup;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// Maintenance calls with input the other tests do not cover (HashKV's and MoveLeader's refusals are in
/// <see cref="MaintenanceApiTests"/>): the answer, and that nothing changed and the member goes on serving.
/// </summary>
public sealed class MaintenanceBadInputTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>
    /// An action or alarm type outside the enums, activating NONE, disarming for a member that does not exist. etcd
    /// 3.4 has no answer to copy here: checked by hand against it, an unknown action crashes the member (nil pointer
    /// dereference) and ACTIVATE of NONE stops it ("cannot put key into bucket (key required)"). Bulwark answers with
    /// no alarms and changes nothing.
    /// </summary>
    [Fact]
    public async Task Alarm_with_values_outside_its_enums_or_for_an_unknown_member_changes_nothing()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var before = await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("alarm/k"), Value = B("v") });
        var maintenance = cluster.Maintenance(leader);
        foreach (var request in new[]
        {
            new AlarmRequest { Action = (AlarmRequest.Types.AlarmAction)7 },
            new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, Alarm = AlarmType.None },
            new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, Alarm = (AlarmType)9 },
            new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace, MemberID = 0xdead_beef },
            new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get, Alarm = (AlarmType)9 },
        })
        {
            var response = await maintenance.AlarmAsync(request);
            Assert.Empty(response.Alarms);
        }

        Assert.Empty((await maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get })).Alarms);
        Assert.Equal(before.Header.Revision, (await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = B("alarm/k") })).Header.Revision);
        var after = await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("alarm/k"), Value = B("still serving") });
        Assert.Equal(before.Header.Revision + 1, after.Header.Revision);
    }

    [Fact]
    public async Task Defragment_answers_ok_on_every_member_and_changes_nothing()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var put = await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("defrag/k"), Value = B("v") });
        foreach (var i in cluster.Nodes.Running)
        {
            var response = await cluster.Maintenance(i).DefragmentAsync(new DefragmentRequest());
            Assert.Equal(cluster.Nodes.Node(i).MemberId, response.Header.MemberId);
        }

        var read = await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = B("defrag/k") });
        Assert.Equal(put.Header.Revision, read.Header.Revision);
        Assert.Equal("v", read.Kvs.Single().Value.ToStringUtf8());
    }

    /// <summary>
    /// A member that cannot write the snapshot's temporary file (its data dir's backup directory is in the way)
    /// fails that call with ResourceExhausted, as etcd fails a snapshot it cannot write, and goes on serving.
    /// </summary>
    [Fact]
    public async Task Snapshot_that_cannot_write_its_temporary_file_fails_the_call_only()
    {
        await using var cluster = new ApiCluster(size: 1);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var put = await cluster.Kv(0).PutAsync(new PutRequest { Key = B("snap/k"), Value = B("v") });
        var blocker = Path.Combine(cluster.Nodes.Options[0].DataDir, StoreBackup.DirectoryName);
        if (Directory.Exists(blocker))
        {
            Directory.Delete(blocker, recursive: true);
        }

        await File.WriteAllTextAsync(blocker, "a file where the backup directory goes");
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = cluster.Maintenance(0).Snapshot(new SnapshotRequest());
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.StartsWith("cannot write the snapshot's temporary file in the data directory", e.Status.Detail, StringComparison.Ordinal);

        var after = await cluster.Kv(0).PutAsync(new PutRequest { Key = B("snap/k"), Value = B("after") });
        Assert.Equal(put.Header.Revision + 1, after.Header.Revision);
    }
}
