using System.Text.RegularExpressions;
using Bulwark.EndToEnd.Tests.Processes;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// `etcdctl lease ...` and `put --lease` (Debian's etcdctl 3.4) against a real 3-process Bulwark cluster (through a
/// follower, so keep-alives and time-to-live are forwarded to the leader) and, side by side, a real etcd: the same
/// commands print the same output once lease ids and remaining seconds are masked.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class EtcdctlLeaseTests(SharedCluster shared, ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>
{
    private string Bulwark => shared.Cluster.ClientUrls[^1]["http://".Length..];

    [GeneratedRegex("[0-9a-f]{16}")]
    private static partial Regex LeaseId();

    [GeneratedRegex(@"remaining\(\d+s\)")]
    private static partial Regex Remaining();

    private static string Mask(string output) => Remaining().Replace(LeaseId().Replace(output, "<id>"), "remaining(<n>s)");

    private static string LastLine(string text) => Lines(text).LastOrDefault() ?? "";

    private static async Task<List<string>> ScenarioAsync(string endpoint, string prefix)
    {
        var outputs = new List<string>();
        var grant = await RunOkAsync(endpoint, "lease", "grant", "60");
        outputs.Add(grant);
        var id = grant.Split(' ')[1];
        outputs.Add(await RunOkAsync(endpoint, "put", "--lease=" + id, prefix + "k", "v"));
        outputs.Add(await RunOkAsync(endpoint, "lease", "timetolive", id, "--keys"));
        outputs.Add(await RunOkAsync(endpoint, "lease", "keep-alive", "--once", id));
        await using (var keepAlive = EtcdctlStream.Start(endpoint, "lease", "keep-alive", id))
        {
            var line = $"lease {id} keepalived with TTL(60)";
            await keepAlive.WaitForLineAsync(line);
            outputs.Add(line);
        }

        Assert.Contains(id, await RunOkAsync(endpoint, "lease", "list"), StringComparison.Ordinal);
        outputs.Add(await RunOkAsync(endpoint, "lease", "revoke", id));
        outputs.Add(await RunOkAsync(endpoint, "get", prefix + "k"));
        outputs.Add(await RunOkAsync(endpoint, "lease", "timetolive", id));
        var again = await RunAsync(endpoint, null, "lease", "revoke", id);
        outputs.Add($"exit {again.ExitCode}: {LastLine(again.Stderr)}");
        var unknown = await RunAsync(endpoint, null, "put", "--lease=1234abcd", prefix + "x", "y");
        outputs.Add($"exit {unknown.ExitCode}: {LastLine(unknown.Stderr)}");
        return outputs.Select(Mask).ToList();
    }

    [Fact]
    public async Task Lease_commands_print_as_etcd_does()
    {
        var expected = await ScenarioAsync(etcd.Endpoint, "ctl/lease/");
        Assert.Equal("lease <id> granted with TTL(60s)\n", expected[0]);
        Assert.Equal("lease <id> granted with TTL(60s), remaining(<n>s), attached keys([ctl/lease/k])\n", expected[2]);
        Assert.Equal("exit 1: Error: failed to revoke lease (etcdserver: requested lease not found)", expected[^2]);
        Assert.Equal(expected, await ScenarioAsync(Bulwark, "ctl/lease/"));
    }
}
