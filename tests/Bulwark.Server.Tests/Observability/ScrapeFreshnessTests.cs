using System.Globalization;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Observability;

/// <summary>
/// A scrape reports the node as it is at the scrape, not as the sampling timer last saw it. CI caught the stale case:
/// five acknowledged puts, then an immediate scrape that still showed the applied counter from before them.
/// </summary>
public sealed class ScrapeFreshnessTests
{
    [Fact]
    public async Task A_scrape_counts_every_put_acknowledged_before_it_even_if_the_sampling_timer_never_fired()
    {
        await using var cluster = new LocalCluster(1);
        var node = cluster.Start(0);
        await cluster.WaitForLeaderAsync();

        // A fake clock that never advances: the sampling timer fires only at Attach.
        var time = new FakeTimeProvider();
        var observability = new NodeObservability(node.MemberId, cluster.Members, cluster.Options[0].DataDir,
            TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), NullLoggerFactory.Instance, time);
        await using (observability.ConfigureAwait(false))
        {
            observability.Attach(node);
            var before = Applied(observability.ScrapeMetrics());
            for (var k = 0; k < 5; k++)
            {
                Assert.True((await node.ProposeAsync(NodeHostClusterTests.Put($"fresh/{k}", "v"))).Succeeded);
            }

            // The node may apply entries of its own meanwhile (publishing its attributes after the election), so the
            // scrape is bracketed: at least what was applied just before it, at most what was applied just after.
            var appliedBefore = node.Status.Applied;
            var after = Applied(observability.ScrapeMetrics());
            var appliedAfter = node.Status.Applied;
            Assert.True(after >= before + 5, $"applied counter went from {before} to {after} across 5 acknowledged puts");
            Assert.InRange(after, appliedBefore, appliedAfter);
        }
    }

    private static double Applied(string text)
    {
        const string Series = "etcd_server_proposals_applied_total ";
        var line = text.Split('\n').First(l => l.StartsWith(Series, StringComparison.Ordinal));
        return double.Parse(line[Series.Length..], CultureInfo.InvariantCulture);
    }
}
