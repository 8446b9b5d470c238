using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Bulwark.Server.Backup;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>Maintenance.Snapshot over real gRPC: the stream, its SHA-256 trailer and the store it carries.</summary>
public sealed class SnapshotApiTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Snapshot_streams_one_revision_with_sha256_trailer_while_writes_go_on()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(leader);
        // Values of 2 KiB, so the snapshot spans several 64 KiB chunks.
        var value = new string('v', 2048);
        long lastPut = 0;
        for (var i = 0; i < 200; i++)
        {
            lastPut = (await kv.PutAsync(new PutRequest { Key = B($"snap/{i:D4}"), Value = B($"{i}:{value}") })).Header.Revision;
        }

        // Writes go on through another member while the snapshot is taken and streamed.
        using var stop = new CancellationTokenSource();
        var writerKv = cluster.Kv((leader + 1) % 3);
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await writerKv.PutAsync(new PutRequest { Key = B($"during/{writes % 50}"), Value = B(value) });
                writes++;
            }
        });
        await LocalClusterEventually(() => Volatile.Read(ref writes) > 5, "concurrent writes running");

        using var bytes = new MemoryStream();
        var chunks = new List<SnapshotResponse>();
        using (var call = cluster.Maintenance(leader).Snapshot(new SnapshotRequest()))
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                chunks.Add(chunk);
                chunk.Blob.WriteTo(bytes);
            }
        }

        await stop.CancelAsync();
        await writer;

        Assert.True(chunks.Count >= 3, $"{chunks.Count} chunks");
        var revision = chunks[0].Header.Revision;
        Assert.True(revision >= lastPut, $"snapshot revision {revision} is before the last acknowledged put {lastPut}");
        Assert.Equal(0UL, chunks[^1].RemainingBytes);
        Assert.Equal(BackupFile.HashLength, chunks[^1].Blob.Length);
        Assert.Equal(0UL, chunks[^2].RemainingBytes);
        Assert.True(chunks[..^1].All(c => c.Blob.Length <= 64 * 1024));

        // remaining_bytes counts down to what is left of the store bytes after each chunk, as etcd does.
        long body = bytes.Length - BackupFile.HashLength;
        Assert.Equal(0, body % BackupFile.SectorBytes); // what etcdctl's save checks
        long seen = 0;
        foreach (var chunk in chunks[..^1])
        {
            seen += chunk.Blob.Length;
            Assert.Equal((ulong)(body - seen), chunk.RemainingBytes);
        }

        var all = bytes.ToArray();
        Assert.Equal(SHA256.HashData(all.AsSpan(0, (int)body)), all[(int)body..]);
        bytes.Position = 0;
        var summary = BackupFile.Read(bytes);
        Assert.Equal(revision, summary.Revision);
        Assert.Equal(all.Length, summary.TotalBytes);

        var store = MvccStore.ReadSnapshot(new MemoryStream(all, 0, (int)body));
        Assert.Equal(revision, store.Revision);
        Assert.Equal(summary.TotalKeys, store.LiveKeyCount);
        var range = store.Range(new RangeRequest { Key = B("snap/"), RangeEnd = B("snap0") });
        Assert.Equal(200, range.Kvs.Count);
        Assert.Equal($"7:{value}", range.Kvs[7].Value.ToStringUtf8());

        // The temporary file the member streamed from is gone.
        var temp = Path.Combine(cluster.Nodes.Options[leader].DataDir, StoreBackup.DirectoryName);
        Assert.Empty(Directory.EnumerateFiles(temp));
    }

    [Fact]
    public async Task A_member_deletes_backup_files_a_crash_left_behind_when_it_starts()
    {
        await using var cluster = new ApiCluster(size: 1);
        var directory = Path.Combine(cluster.Nodes.Options[0].DataDir, StoreBackup.DirectoryName);
        Directory.CreateDirectory(directory);
        var leftover = Path.Combine(directory, "0123456789abcdef.tmp");
        await File.WriteAllBytesAsync(leftover, new byte[1000]);
        await cluster.StartAllAsync();
        Assert.False(File.Exists(leftover));
    }

    private static Task LocalClusterEventually(Func<bool> condition, string what) => Hosting.LocalCluster.EventuallyAsync(condition, what);
}
