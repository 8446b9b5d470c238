using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Cli;
using Bulwark.EndToEnd.Tests.Processes;
using Google.Protobuf;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// `bulwark snapshot restore` (a real process) from a file `etcdctl snapshot save` wrote against Bulwark, started as a
/// new one-member cluster; and what the command refuses, exit 2 with nothing written: a real etcd's own (bbolt)
/// snapshot, a truncated file, a data dir in use, a name not in the initial cluster.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlSnapshotRestoreTests(SharedCluster shared, ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>, IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bulwark-restore-etcdctl-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task A_file_saved_by_etcdctl_restores_into_a_new_cluster_that_goes_on_from_its_revision()
    {
        for (var i = 0; i < 30; i++)
        {
            await shared.Cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"restore/etcdctl/{i:D2}"), Value = ByteString.CopyFromUtf8($"value {i}") });
        }

        // A lease with a key: the restored cluster keeps both (etcd restarts the lease's TTL on the new leader).
        var lease = await shared.Cluster.Lease(0).LeaseGrantAsync(new LeaseGrantRequest { TTL = 120 });
        await shared.Cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("restore/etcdctl/leased"), Value = ByteString.CopyFromUtf8("l"), Lease = lease.ID });

        var file = Path.Combine(directory, "etcdctl.db");
        await Etcdctl.RunOkAsync(shared.Cluster.ClientUrls[0]["http://".Length..], "snapshot", "save", file);
        await shared.Cluster.Lease(0).LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID });
        // What the shared cluster held at the snapshot's revision (the leased key is gone from it since).
        var snapshotRevision = JsonRevision(await BulwarkProcess.RunAsync(null, ["snapshot", "status", file, "-w", "json"]));
        var expected = await shared.Cluster.Kv(0).RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8("restore/etcdctl/"),
            RangeEnd = ByteString.CopyFromUtf8("restore/etcdctl0"),
            Revision = snapshotRevision,
        });
        Assert.Equal(31, expected.Kvs.Count);

        await using var fresh = await ProcessCluster.StartAsync(1);
        await fresh.KillAsync(0);
        Directory.Delete(fresh.DataDir(0), recursive: true);
        var (code, output, error) = await BulwarkProcess.RunAsync(null,
        [
            "snapshot", "restore", file, "--name", fresh.Names[0], "--initial-cluster", $"{fresh.Names[0]}={fresh.PeerUrls[0]}",
            "--initial-advertise-peer-urls", fresh.PeerUrls[0], "--data-dir", fresh.DataDir(0),
        ]);
        Assert.True(code == 0, error);
        Assert.Contains("starting at index 1 term 1", Encoding.UTF8.GetString(output), StringComparison.Ordinal);

        fresh.Start(0);
        await fresh.WaitForLeaderAsync();
        var restored = await fresh.Kv(0).RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8("restore/etcdctl/"),
            RangeEnd = ByteString.CopyFromUtf8("restore/etcdctl0"),
        });
        Assert.Equal(
            expected.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.CreateRevision, kv.ModRevision, kv.Version)),
            restored.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.CreateRevision, kv.ModRevision, kv.Version)));
        var live = await fresh.Lease(0).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID, Keys = true });
        Assert.Equal(120, live.GrantedTTL);
        Assert.True(live.TTL > 0, $"the restored lease has TTL {live.TTL}");
        Assert.Equal(["restore/etcdctl/leased"], live.Keys.Select(k => k.ToStringUtf8()));

        var revision = restored.Header.Revision;
        Assert.Equal(snapshotRevision, revision);
        var put = await fresh.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("restore/etcdctl/new"), Value = ByteString.CopyFromUtf8("v") });
        Assert.Equal(revision + 1, put.Header.Revision);

        // Into the data dir now in use: refused, and the member's files are untouched.
        await fresh.KillAsync(0);
        var inUse = Listing(fresh.DataDir(0));
        (code, _, error) = await Restore(file, fresh.DataDir(0));
        Assert.Equal(2, code);
        Assert.Contains($"data-dir \"{fresh.DataDir(0)}\" exists", error, StringComparison.Ordinal);
        Assert.Equal(inUse, Listing(fresh.DataDir(0)));
    }

    [Fact]
    public async Task Refuses_an_etcd_bolt_snapshot_a_truncated_file_and_an_unknown_name_and_writes_nothing()
    {
        await Etcdctl.RunOkAsync(etcd.Endpoint, "put", "restore/ref", "v");
        var boltFile = Path.Combine(directory, "real-etcd.db");
        await Etcdctl.RunOkAsync(etcd.Endpoint, "snapshot", "save", boltFile);

        var target = Path.Combine(directory, "target", "n1");
        var (code, error) = await RestoreRefused(boltFile, target);
        Assert.Equal(2, code);
        Assert.Contains("etcd (bbolt) snapshot", error, StringComparison.Ordinal);

        var good = Path.Combine(directory, "good.db");
        await Etcdctl.RunOkAsync(shared.Cluster.ClientUrls[0]["http://".Length..], "snapshot", "save", good);
        var truncated = Path.Combine(directory, "truncated.db");
        var bytes = await File.ReadAllBytesAsync(good);
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length - 100)]);
        (code, error) = await RestoreRefused(truncated, target);
        Assert.Equal(2, code);
        Assert.Contains("truncated or corrupted", error, StringComparison.Ordinal);

        var (nameCode, _, nameError) = await BulwarkProcess.RunAsync(null,
            ["snapshot", "restore", good, "--name", "n7", "--initial-cluster", "n1=http://127.0.0.1:2380", "--data-dir", target]);
        Assert.Equal(2, nameCode);
        Assert.Contains("couldn't find local name \"n7\"", nameError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(directory, "target")));
    }

    private static long JsonRevision((int Code, byte[] Output, string Error) status)
    {
        Assert.True(status.Code == 0, status.Error);
        return System.Text.Json.JsonDocument.Parse(status.Output).RootElement.GetProperty("revision").GetInt64();
    }

    private async Task<(int Code, string Error)> RestoreRefused(string file, string target)
    {
        var before = Listing(directory);
        var (code, _, error) = await Restore(file, target);
        Assert.Equal(before, Listing(directory));
        return (code, error);
    }

    private static async Task<(int Code, byte[] Output, string Error)> Restore(string file, string dataDir) =>
        await BulwarkProcess.RunAsync(null,
            ["snapshot", "restore", file, "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--data-dir", dataDir]);

    private static string[] Listing(string path) =>
        [.. Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
}
