using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// The client across a member failure: SIGKILL of the leader of a 3-process Bulwark cluster (reads retried through
/// the election, writes moved off the dead member only because its connection was refused), and against etcd an
/// endpoint list whose first member is down.
/// </summary>
[Collection(ClientProcessCollection.Name)]
public sealed class FailoverTests(Backends backends, ITestOutputHelper log)
{
    [Fact]
    public async Task Reads_and_writes_keep_working_when_the_leader_is_killed()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var captured = new CapturedLog();
        try
        {
            await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls] }, captured);
            await client.PutAsync("fo/k", "v0");
            var leader = await cluster.WaitForLeaderAsync();
            var leaderUrl = new Uri(cluster.ClientUrls[leader]).ToString();
            await Eventually.TrueAsync(() => client.LeaderEndpoint == leaderUrl, "the client to find the leader", diagnostics: cluster.Logs);

            await cluster.KillAsync(leader);
            log.WriteLine($"killed leader {cluster.Names[leader]}");

            // A linearizable read right after the kill: the dead leader refuses, the others have no leader for a
            // moment; the client retries until one answers.
            var read = await client.GetAsync("fo/k");
            Assert.Equal("v0", read.Kvs[0].Value.ToStringUtf8());

            // Writes: the first attempt may still go to the dead leader; a refused connection proves it was never
            // sent, so the client moves on. (Writes are not retried after a failure that may have reached a member,
            // so the test waits until the survivors have elected a leader.)
            await cluster.WaitForLeaderAsync(notLeader: leader);
            for (var i = 1; i <= 20; i++)
            {
                await client.PutAsync("fo/k", $"v{i}");
                Assert.Equal($"v{i}", (await client.GetAsync("fo/k")).Kvs[0].Value.ToStringUtf8());
            }

            log.WriteLine(captured.ToString());
            Assert.True(captured.Has("FailingOver"), "the client never failed over");
            Assert.NotEqual(leaderUrl, client.LeaderEndpoint);
        }
        catch
        {
            log.WriteLine(captured.ToString());
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    [Fact]
    public async Task Against_etcd_a_down_first_endpoint_is_skipped_for_reads_and_writes()
    {
        var down = $"http://127.0.0.1:{LoopbackPorts.Take(1)[0]}";
        var captured = new CapturedLog();
        await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [down, $"http://{backends.Etcd.Endpoint}"] }, captured);
        var key = Target.Unique("fo-etcd");

        // Unless the first health probe has already marked it, the first call goes to the down endpoint: refused, so
        // even the Put moves on.
        await client.PutAsync(key, "v1");
        Assert.Equal("v1", (await client.GetAsync(key)).Kvs[0].Value.ToStringUtf8());
        Assert.NotEmpty((await client.MemberListAsync()).Members);
        log.WriteLine(captured.ToString());
    }
}
