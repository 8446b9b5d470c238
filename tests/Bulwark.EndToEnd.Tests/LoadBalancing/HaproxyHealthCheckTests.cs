using System.Globalization;
using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Bulwark.EndToEnd.Tests.LoadBalancing;

/// <summary>
/// A real HAProxy in front of a 3-process cluster, configured as docs/operations.md shows: gRPC passed through in TCP
/// mode, servers checked with HAProxy's default httpchk (OPTIONS) on each member's admin listener, writes routed by
/// /health/leader and reads by /health/replica. Killing the leader moves the writes backend to the new leader.
/// </summary>
public sealed class HaproxyHealthCheckTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Haproxy_routes_writes_to_the_leader_and_reads_to_replicas_and_follows_a_leader_kill()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var ports = LoopbackPorts.Take(2);
        var (writesPort, readsPort) = (ports[0], ports[1]);
        await using var haproxy = await HaproxyServer.StartAsync(Config(cluster, writesPort, readsPort));
        var names = cluster.Names;
        var followers = Enumerable.Range(0, cluster.Size).Where(i => i != leader).Select(i => names[i]).ToHashSet();

        // Only the leader passes /health/leader; only the followers pass /health/replica.
        await haproxy.WaitForAsync("writes", s => s.Count == 3 && s.All(x => x.Value.Status == (x.Key == names[leader] ? "UP" : "DOWN")), Patience,
            $"only the leader {names[leader]} UP");
        await haproxy.WaitForAsync("reads", s => s.Count == 3 && s.All(x => x.Value.Status == (followers.Contains(x.Key) ? "UP" : "DOWN")), Patience,
            "only the followers UP");
        await PutAsync(writesPort, "lb/before", "1");

        await cluster.KillAsync(leader);
        var newLeader = await cluster.WaitForLeaderAsync(notLeader: leader);
        var writes = await haproxy.WaitForAsync("writes", s => s.All(x => x.Value.Status == (x.Key == names[newLeader] ? "UP" : "DOWN")), Patience,
            $"only the new leader {names[newLeader]} UP");
        var sessionsBefore = writes[names[newLeader]].Sessions;
        await haproxy.WaitForAsync("reads", s => s.All(x => x.Value.Status == (x.Key != names[leader] && x.Key != names[newLeader] ? "UP" : "DOWN")), Patience,
            "only the remaining follower UP");

        // A write through HAProxy reaches the new leader (its session count grows) and is stored.
        await PutAsync(writesPort, "lb/after", "2");
        writes = await haproxy.ServersAsync("writes");
        Assert.True(writes[names[newLeader]].Sessions > sessionsBefore, $"the put did not go to {names[newLeader]}: {string.Join(", ", writes)}");
        using var reads = GrpcChannel.ForAddress($"http://127.0.0.1:{readsPort}");
        var got = await new KV.KVClient(reads).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lb/after") }, deadline: DateTime.UtcNow + Patience);
        Assert.Equal("2", Assert.Single(got.Kvs).Value.ToStringUtf8());
    }

    private static async Task PutAsync(int port, string key, string value)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        await new KV.KVClient(channel).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
            deadline: DateTime.UtcNow + Patience);
    }

    /// <summary>The configuration of docs/operations.md with this cluster's ports and short check intervals.</summary>
    private static string Config(ProcessCluster cluster, int writesPort, int readsPort)
    {
        var servers = new StringBuilder();
        for (var i = 0; i < cluster.Size; i++)
        {
            var admin = new Uri(cluster.MetricsUrls[i]).Port;
            servers.AppendLine(CultureInfo.InvariantCulture, $"    server {cluster.Names[i]} 127.0.0.1:{cluster.ClientPorts[i]} check port {admin} inter 200ms fall 2 rise 2");
        }

        return $$"""
            global
                stats socket {stats_socket} mode 600 level user
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend bulwark_writes
                bind 127.0.0.1:{{writesPort}}
                default_backend writes
            frontend bulwark_reads
                bind 127.0.0.1:{{readsPort}}
                default_backend reads
            backend writes
                option httpchk /health/leader
            {{servers}}
            backend reads
                option httpchk /health/replica
            {{servers}}
            """;
    }
}
