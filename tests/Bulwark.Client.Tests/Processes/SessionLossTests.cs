using System.Diagnostics;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// Session loss when the servers go away: with every member killed, Lost fires before the lease could have expired
/// (the client's own bound: last successful keep-alive's send time + TTL). A keep-alive stream on a killed member
/// moves to another member in TTL mode; with release-on-disconnect its break loses the session at once.
/// </summary>
[Collection(ClientProcessCollection.Name)]
public sealed class SessionLossTests(ITestOutputHelper log)
{
    private static readonly SessionOptions FiveSeconds = new() { Ttl = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Killing_every_bulwark_member_fires_lost_before_the_lease_could_expire()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls] });
        await using var session = await client.CreateSessionAsync(FiveSeconds);
        var lostAt = LostTimestamp(session);
        foreach (var i in cluster.Running.ToList())
        {
            await cluster.KillAsync(i);
        }

        var at = await lostAt.WaitAsync(Eventually.DefaultPatience);
        log.WriteLine($"lost: {session.LostReason}");
        Assert.True(at < session.GuaranteedUntil, "Lost fired after the lease could already have expired");
        Assert.Contains("deadline", session.LostReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_etcd_fires_lost_before_the_lease_could_expire()
    {
        var etcd = new ReferenceEtcd();
        await etcd.InitializeAsync();
        var running = true;
        try
        {
            await using var client = BulwarkClient.Connect($"http://{etcd.Endpoint}");
            await using var session = await client.CreateSessionAsync(FiveSeconds);
            var lostAt = LostTimestamp(session);
            running = false;
            await etcd.DisposeAsync();
            var at = await lostAt.WaitAsync(Eventually.DefaultPatience);
            log.WriteLine($"lost: {session.LostReason}");
            Assert.True(at < session.GuaranteedUntil, "Lost fired after the lease could already have expired");
        }
        finally
        {
            if (running)
            {
                await etcd.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task In_ttl_mode_the_keep_alive_moves_to_another_member_and_the_session_survives_a_kill()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls] });
        var leader = await cluster.WaitForLeaderAsync();
        await Eventually.TrueAsync(() => client.LeaderEndpoint is not null, "the client to find the leader", diagnostics: cluster.Logs);
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(6) });
        await Eventually.TrueAsync(() => session.Renewals >= 1, "a first keep-alive", diagnostics: cluster.Logs);
        await cluster.KillAsync(leader);
        var before = session.Renewals;
        await Eventually.TrueAsync(() => session.Renewals >= before + 3 || session.IsLost, "three keep-alives after the kill", diagnostics: cluster.Logs);
        Assert.False(session.IsLost, session.LostReason);
        Assert.True((await client.LeaseTimeToLiveAsync(session.LeaseId)).TTL > 0);
    }

    [Fact]
    public async Task With_release_on_disconnect_a_broken_keep_alive_stream_loses_the_session_at_once()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls] });
        var leader = await cluster.WaitForLeaderAsync();
        var leaderUrl = new Uri(cluster.ClientUrls[leader]).ToString();
        await Eventually.TrueAsync(() => client.LeaderEndpoint == leaderUrl, "the client to find the leader", diagnostics: cluster.Logs);
        // A long TTL: a loss from the deadline would take 20 s; the stream's break must do it first.
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(60), ReleaseOnDisconnect = true });
        await Eventually.TrueAsync(() => session.Renewals >= 1, "a first keep-alive on the leader", diagnostics: cluster.Logs);
        var lostAt = LostTimestamp(session);

        await cluster.KillAsync(leader);
        await lostAt.WaitAsync(Eventually.DefaultPatience);
        log.WriteLine($"lost: {session.LostReason}");
        Assert.Contains("release-on-disconnect", session.LostReason, StringComparison.Ordinal);
    }

    private static Task<long> LostTimestamp(Session session)
    {
        var lost = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Lost.Register(() => lost.TrySetResult(Stopwatch.GetTimestamp()));
        return lost.Task;
    }
}
