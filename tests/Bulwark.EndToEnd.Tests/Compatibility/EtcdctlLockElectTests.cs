using System.Text.RegularExpressions;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// `etcdctl lock` and `etcdctl elect` (Debian's etcdctl 3.4, which builds them on KV, Lease and Watch with its
/// concurrency package) against a follower of a real 3-process Bulwark cluster and, side by side, a real etcd: the same
/// steps print the same output once the lease ids in the keys are masked.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class EtcdctlLockElectTests(SharedCluster shared, ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>
{
    private async Task<string> FollowerAsync()
    {
        var leader = await shared.Cluster.WaitForLeaderAsync();
        return shared.Cluster.ClientUrls[(leader + 1) % shared.Cluster.Size]["http://".Length..];
    }

    [GeneratedRegex("/[0-9a-f]{1,16}\\b")]
    private static partial Regex LeaseSuffix();

    [GeneratedRegex(@"rev=\d+")]
    private static partial Regex Revision();

    private static string Mask(string output) => Revision().Replace(LeaseSuffix().Replace(output, "/<id>"), "rev=<n>");

    private static async Task<int> CountAsync(string endpoint, string prefix) =>
        Lines(await RunOkAsync(endpoint, "get", "--prefix", prefix, "--keys-only")).Count(l => l.Length > 0);

    private static async Task<List<string>> LockScenarioAsync(string endpoint, string name)
    {
        var outputs = new List<string>();
        static bool IsKey(string line, string name) => line.StartsWith(name + "/", StringComparison.Ordinal);

        await using var holder = EtcdctlStream.Start(endpoint, "lock", name);
        await holder.WaitForLineAsync(l => IsKey(l, name), name + "/<id>");
        outputs.Add("holder: " + holder.Stdout);

        await using var waiter = EtcdctlStream.Start(endpoint, "lock", name);
        await Eventually.TrueAsync(async () => await CountAsync(endpoint, name + "/") == 2, "the second locker's key");
        outputs.Add($"waiter printed while the holder holds: '{waiter.Stdout}'");

        await holder.InterruptAsync();
        outputs.Add($"holder exit code after Ctrl-C: {await holder.WaitForExitAsync()}");
        await waiter.WaitForLineAsync(l => IsKey(l, name), name + "/<id>");
        outputs.Add("waiter after the holder exited: " + waiter.Stdout);
        Assert.NotEqual(holder.Stdout, waiter.Stdout); // a different key: the waiter's own

        // A holder that dies without a word (SIGKILL) keeps the lock until its session lease (--ttl) expires.
        await using var crashed = EtcdctlStream.Start(endpoint, "lock", "--ttl=3", name + "-ttl");
        await crashed.WaitForLineAsync(l => IsKey(l, name + "-ttl"), name + "-ttl/<id>");
        await using var heir = EtcdctlStream.Start(endpoint, "lock", name + "-ttl");
        await Eventually.TrueAsync(async () => await CountAsync(endpoint, name + "-ttl/") == 2, "the heir's key");
        await crashed.KillAsync();
        await heir.WaitForLineAsync(l => IsKey(l, name + "-ttl"), name + "-ttl/<id>");
        outputs.Add("heir after the crashed holder's lease expired: " + heir.Stdout);

        await waiter.InterruptAsync();
        await heir.InterruptAsync();
        await waiter.WaitForExitAsync();
        await heir.WaitForExitAsync();

        // With a command: etcdctl runs it while holding the lock, with the key and revision in its environment.
        var ran = await RunOkAsync(endpoint, "lock", name, "--", "sh", "-c", "echo key=$ETCD_LOCK_KEY rev=$ETCD_LOCK_REV");
        outputs.Add("command: " + ran);
        outputs.Add($"keys left under the lock: {await CountAsync(endpoint, name + "/")}");
        return outputs.Select(Mask).ToList();
    }

    private static async Task<List<string>> ElectScenarioAsync(string endpoint, string name)
    {
        var outputs = new List<string>();
        static bool IsKey(string line, string name) => line.StartsWith(name + "/", StringComparison.Ordinal);

        await using var first = EtcdctlStream.Start(endpoint, "elect", name, "p1");
        await first.WaitForLineAsync("p1");
        outputs.Add("first: " + first.Stdout);

        await using var observer = EtcdctlStream.Start(endpoint, "elect", "-l", name);
        await observer.WaitForLineAsync("p1");

        await using var second = EtcdctlStream.Start(endpoint, "elect", name, "p2");
        await Eventually.TrueAsync(async () => await CountAsync(endpoint, name + "/") == 2, "the second candidate's key");
        outputs.Add($"second printed while the first leads: '{second.Stdout}'");

        await first.InterruptAsync();
        outputs.Add($"first exit code after Ctrl-C: {await first.WaitForExitAsync()}");
        await second.WaitForLineAsync("p2");
        outputs.Add("second after the first resigned: " + second.Stdout);
        await observer.WaitForLineAsync("p2");
        outputs.Add("observer: " + observer.Stdout);
        Assert.True(observer.Stdout.Split('\n').Count(l => IsKey(l, name)) == 2, observer.Stdout);

        await second.InterruptAsync();
        await second.WaitForExitAsync();
        return outputs.Select(Mask).ToList();
    }

    [Fact]
    public async Task Etcdctl_lock_holds_hands_over_and_runs_a_command_as_against_etcd()
    {
        var expected = await LockScenarioAsync(etcd.Endpoint, "ctl-lock");
        Assert.Equal("holder: ctl-lock/<id>\n\n", expected[0]);
        Assert.Equal("command: key=ctl-lock/<id> rev=<n>\n", expected[^2]);
        Assert.Equal(expected, await LockScenarioAsync(await FollowerAsync(), "ctl-lock"));
    }

    [Fact]
    public async Task Etcdctl_elect_campaigns_observes_and_hands_over_as_against_etcd()
    {
        var expected = await ElectScenarioAsync(etcd.Endpoint, "ctl-elect");
        Assert.Equal("first: ctl-elect/<id>\np1\n", expected[0]);
        Assert.Equal(expected, await ElectScenarioAsync(await FollowerAsync(), "ctl-elect"));
    }
}
