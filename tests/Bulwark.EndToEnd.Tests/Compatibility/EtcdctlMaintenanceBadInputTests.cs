using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;
using Google.Protobuf;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// etcdctl's maintenance commands with bad input, run against the real 3-process cluster and a real etcd 3.4 side by
/// side: the same exit code and the same error line (the endpoint aside), and nothing changed on Bulwark.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlMaintenanceBadInputTests(SharedCluster shared, ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>
{
    private ProcessCluster Cluster => shared.Cluster;

    private string All => string.Join(",", Cluster.ClientUrls.Select(url => url["http://".Length..]));

    [Theory]
    [InlineData("endpoint", "hashkv", "--rev", "100000000")]
    [InlineData("move-leader", "ffff")]
    public async Task Refusals_match_etcd_and_change_nothing(params string[] command)
    {
        var put = await Cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("ctl/bad-input"), Value = ByteString.CopyFromUtf8("v") });
        var onEtcd = await RunAsync(etcd.Endpoint, null, command);
        var onBulwark = await RunAsync(command[0] == "move-leader" ? All : Cluster.ClientUrls[0]["http://".Length..], null, command);

        Assert.NotEqual(0, onEtcd.ExitCode);
        Assert.Equal(onEtcd.ExitCode, onBulwark.ExitCode);
        Assert.Equal(ErrorLine(onEtcd), ErrorLine(onBulwark));
        if (command[0] == "endpoint")
        {
            Assert.Contains($"Failed to get the hash of endpoint {Cluster.ClientUrls[0]["http://".Length..]} (etcdserver: mvcc: required revision is a future revision)",
                onBulwark.Stderr, StringComparison.Ordinal);
        }

        var read = await Cluster.Kv(0).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("ctl/bad-input") });
        Assert.Equal(put.Header.Revision, read.Header.Revision);
    }

    [Fact]
    public async Task Defrag_and_alarm_disarm_without_alarms_answer_as_etcd_does()
    {
        var endpoint = Cluster.ClientUrls[1]["http://".Length..];
        Assert.Equal($"Finished defragmenting etcd member[{endpoint}]", Lines(await RunOkAsync(endpoint, "defrag")).Single());
        Assert.Equal($"Finished defragmenting etcd member[{etcd.Endpoint}]", Lines(await RunOkAsync(etcd.Endpoint, "defrag")).Single());
        Assert.Equal((await RunOkAsync(etcd.Endpoint, "alarm", "disarm")).Trim(), (await RunOkAsync(endpoint, "alarm", "disarm")).Trim());
        Assert.Equal("", (await RunOkAsync(endpoint, "alarm", "list")).Trim());
    }

    /// <summary>etcdctl's last line on stderr, "Error: ..." (its retry warnings before it are JSON log lines).</summary>
    private static string ErrorLine(Result result) =>
        Lines(result.Stderr).Last(line => line.StartsWith("Error: ", StringComparison.Ordinal));
}
