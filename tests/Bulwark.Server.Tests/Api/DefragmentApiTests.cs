using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Hosting;
using Bulwark.Storage.Wal;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// Maintenance.Defragment over real gRPC on a 3-node cluster with real storage: it reclaims the space of overwritten
/// and compacted history on the member it is sent to (snapshot rewritten, log dropped to the catch-up entries, older
/// snapshot files deleted), Status's db size follows, and nothing is lost (restart, concurrent writes). The WAL's
/// segments are small and threshold snapshots off, so the log holds every write until the defragment.
/// </summary>
public sealed class DefragmentApiTests
{
    private const ulong CatchUpEntries = 20;
    private static readonly string Value = new('v', 1000);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static ApiCluster SmallLogCluster() => new(3, snapshotThreshold: 1_000_000, adjust: o => o with
    {
        Wal = new WalOptions { SegmentSize = 64 * 1024, WriteBufferSize = 4096 },
        SnapshotCatchUpEntries = CatchUpEntries,
    });

    /// <summary>Bytes of the member's snapshot and WAL files, read from the data dir independently of the server.</summary>
    private static long DataDirBytes(ApiCluster cluster, int i) =>
        new[] { "snap", "wal" }.Select(d => Path.Combine(cluster.Nodes.Options[i].DataDir, d))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Sum(f => new FileInfo(f).Length);

    private static int SnapshotFiles(ApiCluster cluster, int i) =>
        Directory.EnumerateFiles(Path.Combine(cluster.Nodes.Options[i].DataDir, "snap"), "*.snap").Count();

    private static Task WaitForRevisionAsync(ApiCluster cluster, int i, long revision) =>
        LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(i).Read(s => s.Revision) >= revision, $"member {i} at revision {revision}");

    [Fact]
    public async Task Defragment_after_overwrites_and_a_compaction_shrinks_the_files_and_db_size_of_that_member_only_and_the_data_survives_a_restart()
    {
        await using var cluster = SmallLogCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var member = (leader + 1) % 3; // a follower: defragment is this member's own business
        var other = (leader + 2) % 3;
        var kv = cluster.Kv(leader);
        var latest = new Dictionary<string, string>();
        long revision = 0;
        for (var i = 0; i < 400; i++)
        {
            var key = $"k{i % 10}";
            var value = $"{i}:{Value}";
            revision = (await kv.PutAsync(new PutRequest { Key = B(key), Value = B(value) })).Header.Revision;
            latest[key] = value;
        }

        await kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = true });
        var compacted = revision;
        await WaitForRevisionAsync(cluster, member, revision);
        await LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(member).Read(s => s.CompactRevision) == compacted, "compaction applied");

        var maintenance = cluster.Maintenance(member);
        var statusBefore = await maintenance.StatusAsync(new StatusRequest());
        var filesBefore = DataDirBytes(cluster, member);
        var otherBefore = DataDirBytes(cluster, other);
        Assert.Equal(0, SnapshotFiles(cluster, member)); // threshold snapshots are off: the log holds every write
        Assert.True(statusBefore.DbSize >= statusBefore.DbSizeInUse, $"db size {statusBefore.DbSize} below in use {statusBefore.DbSizeInUse}");

        var answer = await maintenance.DefragmentAsync(new DefragmentRequest());
        Assert.Equal(cluster.Nodes.Node(member).MemberId, answer.Header.MemberId);

        var statusAfter = await maintenance.StatusAsync(new StatusRequest());
        var filesAfter = DataDirBytes(cluster, member);
        Assert.True(filesAfter < filesBefore, $"snapshot+WAL files {filesBefore} -> {filesAfter} bytes");
        Assert.True(statusAfter.DbSize < statusBefore.DbSize, $"Status db size {statusBefore.DbSize} -> {statusAfter.DbSize}");
        Assert.True(statusAfter.DbSize >= statusAfter.DbSizeInUse, $"db size {statusAfter.DbSize} below in use {statusAfter.DbSizeInUse}");
        Assert.Equal(statusBefore.DbSizeInUse, statusAfter.DbSizeInUse); // the live data is the same
        Assert.Equal(1, SnapshotFiles(cluster, member));

        // Local, as in etcd: the other members wrote no snapshot and kept their logs.
        Assert.Equal(0, SnapshotFiles(cluster, other));
        Assert.True(DataDirBytes(cluster, other) >= otherBefore);

        // A second defragment with nothing new finds the snapshot at the applied index and keeps the single file.
        await maintenance.DefragmentAsync(new DefragmentRequest());
        Assert.Equal(1, SnapshotFiles(cluster, member));

        // Restarted, the member starts from its own snapshot (restored before Start returns): every key's latest
        // value and the compaction are there before it hears from anyone.
        await cluster.StopAsync(member);
        await cluster.StartAsync(member);
        var restarted = cluster.Nodes.Node(member);
        Assert.Equal(revision, restarted.Read(s => s.Revision));
        Assert.Equal(compacted, restarted.Read(s => s.CompactRevision));
        foreach (var (key, value) in latest)
        {
            Assert.Equal(value, NodeHostClusterTests.Get(restarted, key));
        }

        // And the revision goes on from there, on every member.
        var next = await kv.PutAsync(new PutRequest { Key = B("after-defrag"), Value = B("x") });
        Assert.Equal(revision + 1, next.Header.Revision);
        await WaitForRevisionAsync(cluster, member, revision + 1);
        Assert.Equal("x", NodeHostClusterTests.Get(restarted, "after-defrag"));
    }

    [Fact]
    public async Task Defragments_under_concurrent_writes_on_the_leader_and_a_follower_lose_no_acknowledged_write()
    {
        await using var cluster = SmallLogCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var kv = cluster.Kv(leader);
        var acknowledged = new System.Collections.Concurrent.ConcurrentQueue<(string Key, long Revision)>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var key = $"w{n:D5}";
                var put = await kv.PutAsync(new PutRequest { Key = B(key), Value = B($"{key}:{Value}") });
                acknowledged.Enqueue((key, put.Header.Revision));
            }
        });

        await LocalCluster.EventuallyAsync(() => acknowledged.Count >= 50 || writer.IsCompleted, "writes under way");

        // Several at once on each member: they run one at a time and all answer OK.
        var defrags = new List<Task>();
        for (var round = 0; round < 3; round++)
        {
            defrags.Add(cluster.Maintenance(leader).DefragmentAsync(new DefragmentRequest()).ResponseAsync);
            defrags.Add(cluster.Maintenance(follower).DefragmentAsync(new DefragmentRequest()).ResponseAsync);
        }

        await Task.WhenAll(defrags);
        var writtenDuring = acknowledged.Count;
        await LocalCluster.EventuallyAsync(() => acknowledged.Count >= writtenDuring + 50 || writer.IsCompleted, "writes go on after the defragments");
        await stop.CancelAsync();
        await writer;
        var acked = acknowledged.ToArray();
        Assert.True(acked.Length >= 100, $"only {acked.Length} writes");

        // Revisions are gapless and each acknowledged key is there with its value, on both defragmented members.
        var last = acked[^1].Revision;
        Assert.Equal(Enumerable.Range(0, acked.Length).Select(i => acked[0].Revision + i), acked.Select(a => a.Revision));
        foreach (var i in new[] { leader, follower })
        {
            await WaitForRevisionAsync(cluster, i, last);
            var node = cluster.Nodes.Node(i);
            Assert.All(acked, a => Assert.Equal($"{a.Key}:{Value}", NodeHostClusterTests.Get(node, a.Key)));
        }

        // The leader keeps only its newest snapshot; the follower too, unless the leader, whose log now keeps only the
        // catch-up entries, sent it a snapshot since (kept alongside, as any received one).
        Assert.Equal(1, SnapshotFiles(cluster, leader));
        Assert.InRange(SnapshotFiles(cluster, follower), 1, 2);

        // And after a restart of the follower from its defragmented data dir.
        await cluster.StopAsync(follower);
        await cluster.StartAsync(follower);
        await WaitForRevisionAsync(cluster, follower, last);
        var restarted = cluster.Nodes.Node(follower);
        Assert.All(acked, a => Assert.Equal($"{a.Key}:{Value}", NodeHostClusterTests.Get(restarted, a.Key)));
    }
}
