using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Bulwark.TestSupport;
using Grpc.Core;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// A member that restarts from a snapshot taken after another member joined must reach that member: its
/// --initial-cluster does not name it, and the change that added it is inside the snapshot, not replayed from the log.
/// (It once was not dialed: led by such a member, the new member got no more entries.)
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class JoinedMemberPeersTests
{
    [Fact]
    public async Task AMemberRestartedFromASnapshotReachesAMemberAddedBeforeIt()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, ["--snapshot-count", "50", "--snapshot-catchup-entries", "10"], spare: 1);
        var leader = await cluster.WaitForLeaderAsync();
        var added = await cluster.Cluster(leader).MemberAddAsync(new MemberAddRequest { PeerURLs = { cluster.PeerUrls[3] } }, deadline: DateTime.UtcNow.AddSeconds(30));
        var initialCluster = string.Join(",", added.Members.Select(m => m.ID == added.Member.ID ? cluster.InitialClusterEntry(3) : $"{m.Name}={m.PeerURLs[0]}"));
        cluster.StartJoining(3, initialCluster);
        await PutAsync(cluster, "joined/", 200); // several snapshots after the addition, on every member

        var restarted = Enumerable.Range(0, 3).First(i => i != leader);
        await cluster.KillAsync(restarted);
        cluster.Start(restarted);
        var restartedId = await MemberIdAsync(cluster, restarted);
        await Eventually.TrueAsync(
            async () =>
            {
                var currentLeader = await cluster.WaitForLeaderAsync();
                if (currentLeader == restarted)
                {
                    return true;
                }

                await cluster.Maintenance(currentLeader).MoveLeaderAsync(new MoveLeaderRequest { TargetID = restartedId }, deadline: DateTime.UtcNow.AddSeconds(30));
                return false;
            },
            "leadership to move to the restarted member",
            ProcessCluster.Patience,
            transient: e => e is RpcException, // not caught up yet, or leadership moved meanwhile: try again
            diagnostics: cluster.Logs);

        // Led by the restarted member, the joined member keeps receiving the log.
        await PutAsync(cluster, "joined/after/", 20);
        var commit = (await cluster.TryStatusAsync(restarted))!.RaftIndex;
        await Eventually.TrueAsync(
            async () => (await cluster.TryStatusAsync(3))?.RaftAppliedIndex >= commit,
            $"the joined member to apply index {commit}",
            ProcessCluster.Patience,
            diagnostics: cluster.Logs);
    }

    private static async Task<ulong> MemberIdAsync(ProcessCluster cluster, int i) =>
        (await Eventually.ValueAsync(() => cluster.TryStatusAsync(i), $"{cluster.Names[i]} to answer", ProcessCluster.Patience, diagnostics: cluster.Logs)).Header.MemberId;

    private static async Task PutAsync(ProcessCluster cluster, string prefix, int count)
    {
        for (var n = 0; n < count; n++)
        {
            var deadline = DateTime.UtcNow + ProcessCluster.Patience;
            while (true)
            {
                try
                {
                    var leader = await cluster.WaitForLeaderAsync();
                    await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"{prefix}{n}"), Value = ByteString.CopyFromUtf8("v") },
                        deadline: DateTime.UtcNow.AddSeconds(10));
                    break;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    // leadership moving: the next round finds the new leader
                }
            }
        }
    }
}
