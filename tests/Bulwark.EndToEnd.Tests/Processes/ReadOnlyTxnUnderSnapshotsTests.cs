using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Compatibility;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Real processes with a snapshot every 50 entries: read-only Txns (etcd gRPC clients on every member, and the real
/// etcdctl) run while writes make each member write snapshot after snapshot. No member may stop. Every member
/// snapshots at the same applied index, so a read that could fail-stop a member during a snapshot would take the
/// whole cluster down at once.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ReadOnlyTxnUnderSnapshotsTests(ITestOutputHelper log)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Read_only_txns_on_every_member_while_snapshots_are_written_stop_no_member()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, ["--snapshot-count", "50"]);
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            await cluster.Kv(leader).PutAsync(Put("k", "v0"), deadline: Deadline());

            var readOnly = new TxnRequest
            {
                Compare = { new Compare { Key = Bytes("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 } },
                Success = { new RequestOp { RequestRange = new RangeRequest { Key = Bytes("k") } } },
                Failure = { new RequestOp { RequestRange = new RangeRequest { Key = Bytes("none") } } },
            };

            using var stop = new CancellationTokenSource();
            var reads = new long[cluster.Size];
            var readers = Enumerable.Range(0, cluster.Size).SelectMany(member => Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var response = await cluster.Kv(member).TxnAsync(readOnly, deadline: Deadline());
                        Assert.True(response.Succeeded);
                        Interlocked.Increment(ref reads[member]);
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && cluster.IsRunning(member))
                    {
                        // An election on a loaded machine may refuse a read for a moment; a stopped member is caught below.
                    }
                }
            }))).ToArray();

            var written = 0;
            for (var i = 1; i <= 600; i++)
            {
                try
                {
                    await cluster.Kv(leader).PutAsync(Put($"w/{i % 40}", $"v{i}"), deadline: Deadline());
                    written++;
                }
                catch (RpcException)
                {
                    leader = await cluster.WaitForLeaderAsync();
                }

                if (i % 150 == 0)
                {
                    // etcdctl's non-interactive txn: compares, then the success ops, then the failure ops; reads only.
                    // An election on a loaded machine may refuse a read for a moment ("no leader"): try again then.
                    var txn = await Etcdctl.RunAsync(cluster.Endpoints, "version(\"k\") > \"0\"\n\nget k\n\nget none\n\n", "txn");
                    for (var attempt = 1; txn.ExitCode != 0 && attempt < 5 && cluster.Running.Count() == cluster.Size; attempt++)
                    {
                        await cluster.WaitForLeaderAsync();
                        txn = await Etcdctl.RunAsync(cluster.Endpoints, "version(\"k\") > \"0\"\n\nget k\n\nget none\n\n", "txn");
                    }

                    Assert.True(txn.ExitCode == 0, txn.ToString());
                    Assert.StartsWith("SUCCESS\n\nk\nv0\n", txn.Stdout, StringComparison.Ordinal);
                }

                Assert.True(cluster.Running.Count() == cluster.Size, $"a member stopped after {i} puts");
            }

            await stop.CancelAsync();
            await Task.WhenAll(readers);

            Assert.True(written >= 300, $"only {written} of 600 puts succeeded");
            Assert.Equal(cluster.Size, cluster.Running.Count());
            for (var member = 0; member < cluster.Size; member++)
            {
                Assert.True(Interlocked.Read(ref reads[member]) > 0, $"no read-only txn succeeded on member {member}");
                Assert.NotEmpty(Directory.GetFiles(Path.Combine(cluster.DataDir(member), "snap")));
                var status = await cluster.Maintenance(member).StatusAsync(new StatusRequest(), deadline: Deadline());
                Assert.True(status.Header.Revision > 1);
            }
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static PutRequest Put(string key, string value) => new() { Key = Bytes(key), Value = Bytes(value) };

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;
}
