using System.Globalization;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// etcdctl's maintenance commands backed by Maintenance.HashKV and Maintenance.MoveLeader, against the real 3-process
/// cluster: `endpoint hashkv --cluster` and `move-leader`, with etcd's output.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlMaintenanceTests(SharedCluster shared)
{
    private ProcessCluster Cluster => shared.Cluster;

    private string All => string.Join(",", Cluster.ClientUrls.Select(url => url["http://".Length..]));

    /// <summary>
    /// `etcdctl endpoint hashkv --cluster` finds every member through MemberList and prints "endpoint, hash" for each;
    /// once every member applied the same writes the hashes are all equal.
    /// </summary>
    [Fact]
    public async Task EndpointHashKvClusterPrintsOneEqualHashPerMember()
    {
        await RunOkAsync(All, "put", "ctl/hashkv/a", "1");
        await RunOkAsync(All, "put", "ctl/hashkv/b", "2");
        await RunOkAsync(All, "del", "ctl/hashkv/a");

        // Members apply at their own pace: ask again until all have applied the writes (no more writes come).
        var output = "";
        var agreed = await Eventually.ValueAsync<uint[]>(
            async () =>
            {
                output = await RunOkAsync(All, "endpoint", "hashkv", "--cluster");
                var lines = Lines(output);
                Assert.Equal(Cluster.Size, lines.Length);
                var parsed = lines.Select(line => line.Split(", ")).ToArray();
                Assert.All(parsed, parts => Assert.Equal(2, parts.Length));
                Assert.Equal(Cluster.ClientUrls.Order(), parsed.Select(parts => parts[0]).Order());
                var hashes = parsed.Select(parts => uint.Parse(parts[1], CultureInfo.InvariantCulture)).Distinct().ToArray();
                return hashes.Length == 1 ? hashes : null;
            },
            "members to agree on one hash",
            ProcessCluster.Patience,
            diagnostics: () => output);
        Assert.NotEqual(0u, agreed[0]);
    }

    /// <summary>
    /// `etcdctl move-leader ID` finds the leader among the endpoints, asks it to hand over, and prints etcd's
    /// "Leadership transferred from X to Y" (member ids in hex); afterwards every member names the target as leader.
    /// </summary>
    [Fact]
    public async Task MoveLeaderTransfersLeadershipAndEveryMemberAgrees()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var target = (leader + 1) % Cluster.Size;
        var leaderId = (await Cluster.TryStatusAsync(leader))!.Header.MemberId;
        var targetId = (await Cluster.TryStatusAsync(target))!.Header.MemberId;
        var targetHex = targetId.ToString("x", CultureInfo.InvariantCulture);

        var output = await RunOkAsync(All, "move-leader", targetHex);
        Assert.Equal($"Leadership transferred from {leaderId.ToString("x", CultureInfo.InvariantCulture)} to {targetHex}\n", output);
        Assert.Equal(target, await Cluster.WaitForLeaderAsync());
        Assert.Equal("OK\n", await RunOkAsync(All, "put", "ctl/moved", "yes"));
    }
}
