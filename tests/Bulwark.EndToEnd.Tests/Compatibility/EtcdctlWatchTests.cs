using System.Globalization;
using System.Text.Json;
using Bulwark.EndToEnd.Tests.Processes;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// `etcdctl watch` (Debian's etcdctl 3.4) against a real 3-process Bulwark cluster and, side by side, a real etcd: the
/// same commands must print the same output on both.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlWatchTests(SharedCluster shared, ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>
{
    /// <summary>A follower's endpoint: watches are served from any member's applied state.</summary>
    private string Bulwark => shared.Cluster.ClientUrls[^1]["http://".Length..];

    private static async Task<long> PutAsync(string endpoint, string key, string value)
    {
        var json = JsonDocument.Parse(await RunOkAsync(endpoint, "put", key, value, "-w", "json")).RootElement;
        return json.GetProperty("header").GetProperty("revision").GetInt64();
    }

    private static async Task<string> HistoryThenLiveAsync(string endpoint, string prefix)
    {
        long first = await PutAsync(endpoint, prefix + "a", "1");
        await PutAsync(endpoint, prefix + "a", "2");
        await using var watch = EtcdctlStream.Start(endpoint, "watch", "--prefix", prefix, "--rev", first.ToString(CultureInfo.InvariantCulture), "--prev-kv");
        await watch.WaitForLineAsync("2");
        await PutAsync(endpoint, prefix + "b", "x");
        await RunOkAsync(endpoint, "del", prefix + "a");
        await PutAsync(endpoint, prefix + "end", "done");
        await watch.WaitForLineAsync("done");
        return watch.Stdout;
    }

    private static async Task<string> InteractiveAsync(string endpoint, string prefix)
    {
        long revision = await PutAsync(endpoint, prefix + "k", "v1");
        await using var watch = EtcdctlStream.Start(endpoint, "watch", "-i");
        await watch.WriteLineAsync($"watch --rev={revision} {prefix}k");
        await watch.WaitForLineAsync("v1");
        await PutAsync(endpoint, prefix + "k", "v2");
        await watch.WaitForLineAsync("v2");
        return watch.Stdout;
    }

    private static async Task<Result> CompactedAsync(string endpoint, string prefix)
    {
        long first = await PutAsync(endpoint, prefix + "c", "1");
        long second = await PutAsync(endpoint, prefix + "c", "2");
        await RunOkAsync(endpoint, "compaction", second.ToString(CultureInfo.InvariantCulture));
        return await RunAsync(endpoint, null, "watch", "--rev", first.ToString(CultureInfo.InvariantCulture), prefix + "c");
    }

    [Fact]
    public async Task Watch_from_a_past_revision_prints_history_then_live_events_as_etcd_does()
    {
        var expected = await HistoryThenLiveAsync(etcd.Endpoint, "ctl/watch/");
        Assert.Equal(
            "PUT\nctl/watch/a\n1\nPUT\nctl/watch/a\n1\nctl/watch/a\n2\nPUT\nctl/watch/b\nx\nDELETE\nctl/watch/a\n2\nctl/watch/a\n\nPUT\nctl/watch/end\ndone\n",
            expected);
        Assert.Equal(expected, await HistoryThenLiveAsync(Bulwark, "ctl/watch/"));
    }

    [Fact]
    public async Task Interactive_watch_prints_as_etcd_does()
    {
        var expected = await InteractiveAsync(etcd.Endpoint, "ctl/iwatch/");
        Assert.Equal(expected, await InteractiveAsync(Bulwark, "ctl/iwatch/"));
    }

    [Fact]
    public async Task Watch_from_a_compacted_revision_is_canceled_as_etcd_does()
    {
        var expected = await CompactedAsync(etcd.Endpoint, "ctl/cwatch/");
        Assert.NotEqual(0, expected.ExitCode);
        Assert.Contains("required revision has been compacted", expected.Stdout + expected.Stderr, StringComparison.Ordinal);
        var actual = await CompactedAsync(Bulwark, "ctl/cwatch/");
        Assert.Equal(expected.ToString(), actual.ToString());
    }
}
