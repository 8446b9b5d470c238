using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Observability;

/// <summary>
/// deploy/prometheus/alerts.yml loaded into a real Prometheus scraping a real 3-process cluster: stopping a follower
/// raises its member-down alert, and both survivors' peer-down alerts about it (the leader by silence, the other
/// follower by its connection).
/// </summary>
public sealed class ClusterAlertsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Stopping_a_member_raises_its_member_down_alert_and_both_survivors_peer_down_alerts()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var admin = cluster.MetricsUrls;
        await using var prometheus = await PrometheusServer.StartAsync(admin, [Path.Combine(RepositoryRoot(), "deploy", "prometheus", "alerts.yml")]);
        await prometheus.WaitForAsync("up", r => r.Count == 3 && r.All(s => s.Value == 1), Patience);
        // Healthy: none of the down alerts is pending. (Before its first scrape Prometheus finds no `up` at all, so
        // BulwarkAllMembersDown may be pending for a moment: wait for the next evaluations to clear it.)
        await prometheus.WaitForAlertsAsync(alerts => !alerts.Any(a => a.Labels["alertname"] is "BulwarkMemberDown" or "BulwarkAllMembersDown" or "BulwarkPeerDown"),
            Patience, "no down alert on the healthy cluster");

        var victim = Enumerable.Range(0, cluster.Size).First(i => i != leader);
        var victimName = cluster.Names[victim];
        var victimInstance = new Uri(admin[victim]).Authority;
        await cluster.KillAsync(victim);

        // The real `for:` of each rule applies: wait (with a deadline, never a fixed sleep) for pending or firing.
        await prometheus.WaitForAlertsAsync(
            alerts => alerts.Any(a => a.Labels["alertname"] == "BulwarkMemberDown" && a.Labels["instance"] == victimInstance && a.State is "pending" or "firing"),
            Patience, $"BulwarkMemberDown for {victimInstance}");
        var survivors = cluster.Running.Select(i => new Uri(admin[i]).Authority).ToHashSet();
        var alerts = await prometheus.WaitForAlertsAsync(
            alerts => survivors.All(s => alerts.Any(a => a.Labels["alertname"] == "BulwarkPeerDown" && a.Labels["instance"] == s && a.Labels["peer"] == victimName)),
            Patience, $"BulwarkPeerDown about {victimName} from both survivors");
        Assert.DoesNotContain(alerts, a => a.Labels["alertname"] == "BulwarkAllMembersDown");
        Assert.DoesNotContain(alerts, a => a.Labels["alertname"] == "BulwarkMemberDown" && a.Labels["instance"] != victimInstance);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Bulwark.slnx above {AppContext.BaseDirectory}");
    }
}
