using System.Globalization;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Real processes with a snapshot every 100 entries, overwrites of large values, then the real etcdctl: `compact`, then
/// `defrag --cluster`. Each member's two kept snapshots hold the overwritten history; the defragment's snapshot holds
/// only the live keys and the older ones go, so DB SIZE in `etcdctl endpoint status` and the data dir's snapshot+WAL
/// bytes drop on every member. A member killed (SIGKILL) after it and started again serves every key's latest value,
/// and revisions go on.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DefragmentProcessTests
{
    private const int Keys = 10;
    private static readonly string Big = new('b', 20 * 1024);

    [Fact]
    public async Task Compact_then_defrag_cluster_shrinks_db_size_and_the_data_dir_on_every_member_and_survives_a_kill()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, ["--snapshot-count", "100"]);
        var leader = await cluster.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        var latest = new Dictionary<string, string>();
        long revision = 0;
        for (var i = 0; i < 250; i++)
        {
            var key = $"defrag/{i % Keys}";
            var value = $"{i}:{Big}";
            revision = (await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                deadline: DateTime.UtcNow + ProcessCluster.Patience)).Header.Revision;
            latest[key] = value;
        }

        var endpoint = cluster.ClientUrls[leader]["http://".Length..];
        Assert.Equal($"compacted revision {revision}\n", await RunOkAsync(endpoint, "compact", revision.ToString(CultureInfo.InvariantCulture), "--physical"));
        var applied = (await cluster.Maintenance(leader).StatusAsync(new StatusRequest())).RaftAppliedIndex;
        await cluster.WaitForAppliedAsync(applied);

        var before = await DbSizesAsync(cluster);
        var filesBefore = Enumerable.Range(0, cluster.Size).Select(i => DataDirBytes(cluster, i)).ToArray();

        var lines = Lines(await RunOkAsync(endpoint, "defrag", "--cluster"));
        Assert.Equal(
            cluster.ClientUrls.Select(u => $"Finished defragmenting etcd member[{u}]").Order(StringComparer.Ordinal),
            lines.Order(StringComparer.Ordinal));

        var after = await DbSizesAsync(cluster);
        for (var i = 0; i < cluster.Size; i++)
        {
            var url = cluster.ClientUrls[i];
            Assert.True(after[url] < before[url], $"{cluster.Names[i]}: DB SIZE {before[url]} -> {after[url]}");
            var files = DataDirBytes(cluster, i);
            Assert.True(files < filesBefore[i], $"{cluster.Names[i]}: snapshot+WAL files {filesBefore[i]} -> {files}");
            Assert.Single(Directory.EnumerateFiles(System.IO.Path.Combine(cluster.DataDir(i), "snap"), "*.snap"));
        }

        // A hard kill after the defragment: the member starts from its rewritten snapshot and the kept log.
        var victim = (leader + 1) % cluster.Size;
        await cluster.KillAsync(victim);
        cluster.Start(victim);
        await cluster.WaitForLeaderAsync();
        await cluster.WaitForAppliedAsync(applied);
        foreach (var (key, value) in latest)
        {
            var got = await cluster.Kv(victim).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = true },
                deadline: DateTime.UtcNow + ProcessCluster.Patience);
            Assert.Equal(value, Assert.Single(got.Kvs).Value.ToStringUtf8());
        }

        leader = await cluster.WaitForLeaderAsync();
        var next = await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("defrag/after"), Value = ByteString.CopyFromUtf8("x") },
            deadline: DateTime.UtcNow + ProcessCluster.Patience);
        Assert.Equal(revision + 1, next.Header.Revision);
    }

    /// <summary>DB SIZE of each member, by client URL, as `etcdctl endpoint status -w json` prints it.</summary>
    private static async Task<Dictionary<string, long>> DbSizesAsync(ProcessCluster cluster)
    {
        var json = JsonDocument.Parse(await RunOkAsync(cluster.Endpoints, "endpoint", "status", "-w", "json")).RootElement;
        return json.EnumerateArray().ToDictionary(
            row => row.GetProperty("Endpoint").GetString()!,
            row => row.GetProperty("Status").GetProperty("dbSize").GetInt64());
    }

    private static long DataDirBytes(ProcessCluster cluster, int i) =>
        new[] { "snap", "wal" }.Select(d => System.IO.Path.Combine(cluster.DataDir(i), d))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Sum(f => new FileInfo(f).Length);
}
