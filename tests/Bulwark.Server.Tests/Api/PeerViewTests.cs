using System.Text.Json;
using System.Text.RegularExpressions;
using Bulwark.Api.V1;
using Bulwark.Cli.Tests.Cli;
using Bulwark.Server.Tests.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// bulwark.v1.Node.Peers and the peer table of `bulwark status`: every member's failure-detector view of the others,
/// on a healthy in-process cluster, after a follower stops (seen by the leader and by the other follower), after a
/// restart, and on a leader that lost its majority and stepped down.
/// </summary>
public sealed class PeerViewTests
{
    [Fact]
    public async Task Members_report_their_peers_up_and_the_leader_reports_a_stopped_follower_down_in_the_api_the_log_and_bulwark_status()
    {
        await using var cluster = new ObservedApiCluster(3);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();
        var leaderId = cluster.Nodes.Members[leader].Id;

        // Healthy: the leader judges both followers UP and has measured round trips to them; a follower judges only its
        // leader and says so for the other follower. Sampling runs on a timer, so wait for the first round trips.
        var view = await EventuallyAsync(cluster.Node(leader), r => r.Peers.Count == 2 && r.Peers.All(p => p.State == PeerState.Up && p.Judged && p.HasLastRttMs),
            "the leader judges both followers UP with a round trip");
        Assert.Equal(cluster.Name(leader), view.Name);
        Assert.Equal(leaderId, view.MemberId);
        Assert.Equal(followers.Select(cluster.Name).Order(StringComparer.Ordinal), view.Peers.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(view.Peers, p => Assert.True(p.SmoothedRttMs > 0 && p.HasSilentMs && p.Phi < view.SuspectPhi, p.ToString()));
        Assert.Equal(8, view.SuspectPhi);
        Assert.Equal(1000, view.DownAfterMs);
        foreach (var f in followers)
        {
            var followerView = await EventuallyAsync(cluster.Node(f), r => r.Peers.Any(p => p.MemberId == leaderId && p.State == PeerState.Up && p.Judged),
                $"{cluster.Name(f)} judges its leader UP");
            Assert.Equal(leaderId, followerView.Leader);
            // The fellow follower sends it nothing, but its own connection to it is established: UP, on that evidence.
            followerView = await EventuallyAsync(cluster.Node(f), r => r.Peers.Any(p => p.MemberId != leaderId && p.State == PeerState.Up && p.Judged),
                $"{cluster.Name(f)} judges its fellow follower UP by its connection");
            var other = Assert.Single(followerView.Peers, p => p.MemberId != leaderId);
            Assert.StartsWith("connected; no traffic expected", other.Reason, StringComparison.Ordinal);
        }

        // A follower stops: the leader's detector judges it DOWN with the silence as the reason, and logs that.
        var stopped = followers[0];
        var survivor = followers[1];
        await cluster.StopAsync(stopped);
        var afterStop = await EventuallyAsync(cluster.Node(leader), r => r.Peers.Any(p => p.Name == cluster.Name(stopped) && p.State == PeerState.Down),
            $"the leader judges {cluster.Name(stopped)} DOWN");
        var down = Assert.Single(afterStop.Peers, p => p.Name == cluster.Name(stopped));
        Assert.True(down.Judged);
        Assert.Matches(@"^silent for \d+ ms \(down after 1000 ms\)", down.Reason);
        Assert.True(down.SilentMs >= 1000, down.ToString());
        Assert.Contains(cluster.Logs[leader].Entries, e => e.Id.Id == 1300 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Message.Contains($"peer {cluster.Name(stopped)} (", StringComparison.Ordinal) && e.Message.Contains("is DOWN: silent for", StringComparison.Ordinal));

        // The surviving follower cannot connect to its stopped fellow follower: DOWN there too.
        var survivorView = await EventuallyAsync(cluster.Node(survivor), r => r.Peers.Any(p => p.Name == cluster.Name(stopped) && p.State == PeerState.Down),
            $"{cluster.Name(survivor)} judges its fellow follower {cluster.Name(stopped)} DOWN");
        Assert.Matches(@"^no connection for \d+ ms \(down after 1000 ms\)$", Assert.Single(survivorView.Peers, p => p.Name == cluster.Name(stopped)).Reason);

        // `bulwark status` shows the stopped member down, and the leader's peer view with it DOWN.
        var endpoints = string.Join(",", cluster.Nodes.ClientUrls);
        var (code, output, error) = await InProcessCli.RunAsync("status", "--endpoints", endpoints, "--timeout", "5");
        Assert.True(code == 1, $"exit {code}: {error}\n{output}");
        var lines = output.Split('\n');
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^OBSERVER\s+PEER\s+STATE\s+PHI\s+RTT MS\s+SRTT MS\s+SILENT MS\s+REASON$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^{cluster.Name(leader)}\s+{cluster.Name(stopped)}\s+DOWN\s+[\d.]+\s+.*silent for \d+ ms"));
        // The survivor's row for its leader is there (its state is its detector's: on a loaded machine not always UP).
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^{cluster.Name(survivor)}\s+{cluster.Name(leader)}\s+(UP|SUSPECT|DOWN)\s"));
        // A follower judges its fellow follower by its connection: DOWN in the table, with the reason.
        Assert.Contains(lines, l => Regex.IsMatch(l, $@"^{cluster.Name(survivor)}\s+{cluster.Name(stopped)}\s+DOWN\s+.*no connection for \d+ ms"));
        Assert.Contains("alarms: ", output, StringComparison.Ordinal);

        (code, output, error) = await InProcessCli.RunAsync("status", "--json", "--endpoints", endpoints, "--timeout", "5");
        Assert.True(code == 1, $"exit {code}: {error}\n{output}");
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        var leaderRow = Assert.Single(rows, r => r.GetProperty("name").GetString() == cluster.Name(leader));
        var downPeer = Assert.Single(leaderRow.GetProperty("peers").EnumerateArray(), p => p.GetProperty("name").GetString() == cluster.Name(stopped));
        Assert.Equal("DOWN", downPeer.GetProperty("state").GetString());
        Assert.True(downPeer.GetProperty("judged").GetBoolean());
        var stoppedRow = Assert.Single(rows, r => r.GetProperty("name").GetString() == cluster.Name(stopped));
        Assert.StartsWith("down", stoppedRow.GetProperty("health").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, stoppedRow.GetProperty("peers").ValueKind);
    }

    [Fact]
    public async Task A_leader_that_lost_both_followers_and_stepped_down_reports_both_down()
    {
        await using var cluster = new ObservedApiCluster(3);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();
        await EventuallyAsync(cluster.Node(leader), r => r.Peers.Count == 2 && r.Peers.All(p => p.State == PeerState.Up && p.Judged), "the leader judges both followers UP");

        foreach (var f in followers)
        {
            await cluster.StopAsync(f);
        }

        // Majority lost: the former leader steps down (knows no leader) and still reports both stopped peers DOWN.
        var view = await EventuallyAsync(cluster.Node(leader), r => r.Leader == 0 && r.Peers.Count == 2 && r.Peers.All(p => p.State == PeerState.Down),
            "the stepped-down former leader judges both stopped peers DOWN");
        Assert.All(view.Peers, p =>
        {
            Assert.True(p.Judged, p.ToString());
            Assert.Matches(@"^no connection for \d+ ms \(down after 1000 ms\)$", p.Reason);
        });
        Assert.False(cluster.Nodes.Node(leader).Status.IsLeader);
    }

    [Fact]
    public async Task A_follower_reports_a_killed_fellow_follower_down_and_up_again_after_its_restart()
    {
        await using var cluster = new ObservedApiCluster(3);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var followers = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();
        var (observer, victim) = (followers[0], followers[1]);
        var victimName = cluster.Name(victim);
        await EventuallyAsync(cluster.Node(observer), r => r.Peers.Any(p => p.Name == victimName && p.State == PeerState.Up && p.Judged),
            $"{cluster.Name(observer)} judges {victimName} UP");

        await cluster.StopAsync(victim);
        var down = await EventuallyAsync(cluster.Node(observer), r => r.Peers.Any(p => p.Name == victimName && p.State == PeerState.Down),
            $"{cluster.Name(observer)} judges its stopped fellow follower {victimName} DOWN");
        Assert.Equal(cluster.Nodes.Members[leader].Id, down.Leader);
        Assert.True(Assert.Single(down.Peers, p => p.Name == victimName).Judged);
        Assert.Contains(cluster.Logs[observer].Entries, e => e.Id.Id == 1300 && e.Message.Contains($"peer {victimName} (", StringComparison.Ordinal)
            && e.Message.Contains("is DOWN: no connection for", StringComparison.Ordinal));

        await cluster.RestartAsync(victim);
        var up = await EventuallyAsync(cluster.Node(observer), r => r.Peers.Any(p => p.Name == victimName && p.State == PeerState.Up && p.Judged),
            $"{cluster.Name(observer)} judges the restarted {victimName} UP again");
        Assert.StartsWith("connected;", Assert.Single(up.Peers, p => p.Name == victimName).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_host_without_observability_refuses_with_a_reason_instead_of_an_empty_list()
    {
        await using var cluster = new ApiCluster(1);
        await cluster.StartAllAsync();
        using var channel = GrpcChannel.ForAddress(cluster.Nodes.ClientUrls[0]);
        var e = await Assert.ThrowsAsync<RpcException>(() => new Node.NodeClient(channel).PeersAsync(new PeersRequest()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("without failure detection", e.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task<PeersResponse> EventuallyAsync(Node.NodeClient client, Func<PeersResponse, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + LocalCluster.Patience;
        while (true)
        {
            var response = await client.PeersAsync(new PeersRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            if (condition(response))
            {
                return response;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}; last answer: {response}");
            await Task.Delay(50);
        }
    }
}
