using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.TestSupport;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// LeaderElection against a real server: campaign, observe, proclaim, resign, the current leader, fencing, and
/// interop with etcdctl's election (same keys).
/// </summary>
public abstract class ElectionTests(Backends backends, Server server, ITestOutputHelper log)
{
    private readonly Target target = new(backends, server);

    [Fact]
    public async Task Campaign_observe_proclaim_resign_and_the_next_leader()
    {
        var name = Target.Unique("elect");
        await using var client = target.Client();
        await using var aSession = await client.CreateSessionAsync();
        await using var bSession = await client.CreateSessionAsync();
        var a = new LeaderElection(aSession, name);
        var b = new LeaderElection(bSession, name);
        Assert.Null(await a.GetLeaderAsync());

        using var stopObserving = new CancellationTokenSource();
        var seen = new List<LeaderInfo>();
        var observing = Task.Run(async () =>
        {
            try
            {
                await foreach (var leader in a.ObserveAsync(stopObserving.Token))
                {
                    lock (seen)
                    {
                        seen.Add(leader);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var aLeads = await a.CampaignAsync("alpha");
        Assert.Equal("alpha", aLeads.Value);
        var bCampaign = b.CampaignAsync("beta");
        var leader = await b.GetLeaderAsync();
        Assert.Equal(new LeaderInfo(aLeads.Token.Key, "alpha", aLeads.Token.Revision, aSession.LeaseId), leader);

        await aLeads.ProclaimAsync("alpha-2");
        Assert.Equal("alpha-2", (await b.GetLeaderAsync())!.Value);
        await Eventually.TrueAsync(() => Seen(seen).Any(l => l.Value == "alpha-2"), "the observer to see the proclamation", diagnostics: target.Logs);
        Assert.False(bCampaign.IsCompleted, "b leads while a does");

        await aLeads.ResignAsync();
        Assert.True(aLeads.Lost.IsCancellationRequested);
        var bLeads = await bCampaign.WaitAsync(Eventually.DefaultPatience);
        Assert.True(bLeads.Token.Revision > aLeads.Token.Revision);
        Assert.False(await client.TryPutAsync(aLeads.Token, name + "-data", "from a"), "the resigned leader's fenced write went through");
        Assert.True(await client.TryPutAsync(bLeads.Token, name + "-data", "from b"));
        await Eventually.TrueAsync(() => Seen(seen).Any(l => l.Value == "beta"), "the observer to see b lead", diagnostics: target.Logs);
        await stopObserving.CancelAsync();
        await observing;

        var values = Seen(seen).Select(l => l.Value).ToList();
        log.WriteLine($"observed: {string.Join(", ", values)}");
        Assert.Equal(["alpha", "alpha-2", "beta"], values);
        await bLeads.ResignAsync();
        Assert.Null(await a.GetLeaderAsync());
    }

    [Fact]
    public async Task Leadership_is_lost_when_the_leader_key_is_deleted()
    {
        var name = Target.Unique("depose");
        await using var client = target.Client();
        await using var session = await client.CreateSessionAsync();
        var leadership = await new LeaderElection(session, name).CampaignAsync("me");
        await client.DeleteAsync(leadership.Token.Key);
        await Eventually.TrueAsync(() => leadership.Lost.IsCancellationRequested, "Lost after the leader key was deleted", diagnostics: target.Logs);
        Assert.False(session.IsLost, "only the leadership is lost, not the session");
        await Assert.ThrowsAsync<InvalidOperationException>(() => leadership.ProclaimAsync("still me?"));
    }

    [Fact]
    public async Task Etcdctl_elect_observes_a_campaign_by_this_client()
    {
        var name = Target.Unique("interop");
        await using var client = target.Client();
        await using var session = await client.CreateSessionAsync();
        await using var observer = EtcdctlStream.Start(target.EtcdctlEndpoints, "elect", "-l", name);
        var leadership = await new LeaderElection(session, name).CampaignAsync("from-dotnet");

        // etcdctl prints the leader's key, then its value.
        await observer.WaitForLineAsync("from-dotnet");
        await observer.WaitForLineAsync(leadership.Token.Key);
        await leadership.ProclaimAsync("proclaimed");
        await observer.WaitForLineAsync("proclaimed");
        log.WriteLine(observer.Stdout);
    }

    [Fact]
    public async Task This_client_observes_and_waits_for_an_etcdctl_campaign()
    {
        var name = Target.Unique("interop2");
        await using var client = target.Client();
        await using var session = await client.CreateSessionAsync();
        var election = new LeaderElection(session, name);
        await using var candidate = EtcdctlStream.Start(target.EtcdctlEndpoints, "elect", name, "from-etcdctl");
        var leader = await Eventually.ValueAsync(() => election.GetLeaderAsync(), "etcdctl to lead", diagnostics: target.Logs);
        Assert.Equal("from-etcdctl", leader.Value);

        // Our campaign queues behind etcdctl's key and wins when etcdctl goes away (its lease is revoked on exit... or
        // expires): here we revoke its lease ourselves to avoid waiting a TTL.
        var campaign = election.CampaignAsync("from-dotnet");
        Assert.False(campaign.IsCompleted);
        await client.LeaseRevokeAsync(leader.LeaseId);
        await using var won = await campaign.WaitAsync(Eventually.DefaultPatience);
        Assert.True(won.Token.Revision > leader.Revision);
        Assert.Equal("from-dotnet", (await election.GetLeaderAsync())!.Value);
    }

    private static List<LeaderInfo> Seen(List<LeaderInfo> seen)
    {
        lock (seen)
        {
            return [.. seen];
        }
    }
}

[Collection(ClientProcessCollection.Name)]
public sealed class ElectionTestsOnBulwark(Backends backends, ITestOutputHelper log) : ElectionTests(backends, Server.Bulwark, log);

[Collection(ClientProcessCollection.Name)]
public sealed class ElectionTestsOnEtcd(Backends backends, ITestOutputHelper log) : ElectionTests(backends, Server.Etcd, log);
