using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Cli;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// The worst day: a 3-process cluster under write load is backed up with `bulwark snapshot save`, stopped, and every
/// data dir deleted; three members restored from the file with `bulwark snapshot restore` start as a new cluster that
/// holds every put acknowledged up to the snapshot's revision, goes on from that revision and takes writes.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class RestoreFromBackupTests(ITestOutputHelper log) : IDisposable
{
    private const int Writers = 16;
    private const int PutsBeforeSave = 1500;
    private const int PutsAfterSave = 500;
    private readonly string directory = Directory.CreateTempSubdirectory("bulwark-restore-e2e-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task A_cluster_restored_from_a_backup_taken_under_load_has_every_acknowledged_put_and_goes_on()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var acknowledged = new ConcurrentBag<(string Key, string Value, long Revision)>();
        using var stopLoad = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(cluster, w, acknowledged, stopLoad.Token))).ToArray();

        await EventuallyAsync(() => acknowledged.Count >= PutsBeforeSave || load.Any(t => t.IsCompleted), "the load did not get going");
        var file = Path.Combine(directory, "backup.db");
        var (code, output, error) = await BulwarkProcess.RunAsync(null, ["snapshot", "save", file, "--endpoints", cluster.ClientUrls[1]]);
        Assert.True(code == 0, $"snapshot save failed: {error}");
        var atSave = acknowledged.Count;
        await EventuallyAsync(() => acknowledged.Count >= atSave + PutsAfterSave || load.Any(t => t.IsCompleted), "the load stopped after the save");
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);
        var rate = acknowledged.Count / clock.Elapsed.TotalSeconds;
        log.WriteLine($"{acknowledged.Count} puts acknowledged by {Writers} writers, {rate:F0} puts/s; save said: {Encoding.UTF8.GetString(output)}");

        var snapshotRevision = JsonDocument.Parse((await BulwarkProcess.RunAsync(null, ["snapshot", "status", file, "-w", "json"])).Output)
            .RootElement.GetProperty("revision").GetInt64();
        var before = acknowledged.Where(p => p.Revision <= snapshotRevision).ToList();
        var after = acknowledged.Where(p => p.Revision > snapshotRevision).ToList();
        log.WriteLine($"snapshot at revision {snapshotRevision}: {before.Count} acknowledged puts at or before it, {after.Count} after");
        Assert.True(before.Count > 0 && after.Count > 0, $"the save was not taken mid-load ({before.Count} puts before it, {after.Count} after)");

        // The worst day: every member stopped, every data dir gone.
        for (var i = 0; i < cluster.Size; i++)
        {
            await cluster.KillAsync(i);
            Directory.Delete(cluster.DataDir(i), recursive: true);
        }

        var initialCluster = string.Join(",", cluster.Names.Select((n, i) => $"{n}={cluster.PeerUrls[i]}"));
        for (var i = 0; i < cluster.Size; i++)
        {
            (code, output, error) = await BulwarkProcess.RunAsync(null,
            [
                "snapshot", "restore", file, "--name", cluster.Names[i], "--initial-cluster", initialCluster,
                "--initial-advertise-peer-urls", cluster.PeerUrls[i], "--data-dir", cluster.DataDir(i),
            ]);
            Assert.True(code == 0, $"restore of {cluster.Names[i]} failed: {error}");
            Assert.Contains($"revision {snapshotRevision}", Encoding.UTF8.GetString(output), StringComparison.Ordinal);
        }

        for (var i = 0; i < cluster.Size; i++)
        {
            cluster.Start(i);
        }

        var leader = await cluster.WaitForLeaderAsync();

        // Every put acknowledged up to the snapshot's revision is there, with its value and revision; none after it.
        var restored = new Dictionary<string, (string Value, long ModRevision)>();
        var all = await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("load/"), RangeEnd = ByteString.CopyFromUtf8("load0") },
            deadline: Deadline());
        foreach (var kv in all.Kvs)
        {
            restored[kv.Key.ToStringUtf8()] = (kv.Value.ToStringUtf8(), kv.ModRevision);
        }

        var missing = before.Where(p => !restored.TryGetValue(p.Key, out var got) || got != (p.Value, p.Revision)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged puts are missing or different, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.DoesNotContain(after, p => restored.ContainsKey(p.Key));

        // The revision goes on from the snapshot's, and the new cluster takes writes.
        Assert.Equal(snapshotRevision, all.Header.Revision);
        var put = await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after-restore"), Value = ByteString.CopyFromUtf8("yes") },
            deadline: Deadline());
        Assert.Equal(snapshotRevision + 1, put.Header.Revision);

        // One cluster (the same id everywhere); every member on the same revision, and none needed a snapshot from a peer.
        var clusterIds = new HashSet<ulong>();
        for (var i = 0; i < cluster.Size; i++)
        {
            var status = await cluster.Maintenance(i).StatusAsync(new StatusRequest(), deadline: Deadline());
            clusterIds.Add(status.Header.ClusterId);
        }

        Assert.Single(clusterIds);
        await cluster.WaitForAppliedAsync((await cluster.TryStatusAsync(leader))!.RaftAppliedIndex);
        for (var i = 0; i < cluster.Size; i++)
        {
            var value = await cluster.Kv(i).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("after-restore"), Serializable = true }, deadline: Deadline());
            Assert.Equal(snapshotRevision + 1, value.Header.Revision);
            Assert.DoesNotContain(cluster.StandardOutput(i), line => line.Contains("snapshot installed", StringComparison.Ordinal));
            Assert.Contains(cluster.StandardOutput(i), line => line.Contains("snapshot 3,", StringComparison.Ordinal) && line.Contains("started", StringComparison.Ordinal));
        }
    }

    /// <summary>One writer: puts new keys back to back, recording each acknowledged one with its revision.</summary>
    private static async Task WriteAsync(ProcessCluster cluster, int writer, ConcurrentBag<(string, string, long)> acknowledged, CancellationToken stop)
    {
        var client = cluster.Kv(writer % cluster.Size);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = $"load/{writer:D2}/{n:D6}";
            var value = $"value {writer} {n}";
            try
            {
                var response = await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                    deadline: Deadline(), cancellationToken: stop);
                acknowledged.Add((key, value, response.Header.Revision));
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // Not acknowledged (a timeout on a loaded machine): not recorded, and the next put uses a new key.
            }
            catch (RpcException)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static DateTime Deadline() => DateTime.UtcNow + ProcessCluster.Patience;

    private static Task EventuallyAsync(Func<bool> condition, string what) =>
        Eventually.TrueAsync(condition, what, ProcessCluster.Patience * 2);
}
