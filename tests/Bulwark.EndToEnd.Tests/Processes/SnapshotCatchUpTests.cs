using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// A real 3-process cluster with frequent snapshots and a tiny snapshot chunk: a follower stopped while the leader
/// compacts its log far past the follower's can only catch up by a snapshot many chunks long, streamed from the
/// leader's snapshot file into its own.
/// </summary>
/// <remarks>
/// The follower keeps its data dir. Wiping it in place is not something Raft survives: the node would forget the
/// entries it acknowledged and the votes it cast, and the leader's first heartbeat (commit up to what the follower
/// had acknowledged) trips the core's invariant "commit index beyond the last index" (fail-stop), as etcd panics with
/// "tocommit is out of range". A wiped member must be removed and added back as a new one.
/// </remarks>
[Collection(ProcessCollection.Name)]
public sealed class SnapshotCatchUpTests(ITestOutputHelper log)
{
    private const int ChunkBytes = 4096;
    private const int Keys = 200;
    private const int ValueBytes = 2048;

    [Fact]
    public async Task A_follower_left_behind_catches_up_from_a_snapshot_many_times_the_chunk_size()
    {
        // No catch-up tail behind the snapshots: with etcd's 5,000 the follower would catch up from the log instead.
        await using var cluster = await ProcessCluster.StartAsync(3,
            ["--snapshot-count", "50", "--snapshot-catchup-entries", "0", "--snapshot-chunk-bytes", ChunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            var follower = Enumerable.Range(0, cluster.Size).First(i => i != leader);
            for (var i = 0; i < Keys / 2; i++)
            {
                await cluster.Kv(leader).PutAsync(Put(i), deadline: Deadline());
            }

            await cluster.KillAsync(follower);

            // More writes while it is gone, so the leader's log is compacted well past the follower's last entry: it
            // cannot be sent entries any more, only the snapshot.
            for (var i = Keys / 2; i < Keys; i++)
            {
                await cluster.Kv(leader).PutAsync(Put(i), deadline: Deadline());
            }

            // 200 values of 2 KiB: the snapshot is about 100 chunks of 4 KiB.
            var leaderStatus = await cluster.TryStatusAsync(leader) ?? throw new InvalidOperationException("the leader does not answer");

            cluster.Start(follower);
            await cluster.WaitForAppliedAsync(leaderStatus.RaftAppliedIndex);

            var onLeader = await cluster.Kv(leader).RangeAsync(All(), deadline: Deadline());
            var onFollower = await cluster.Kv(follower).RangeAsync(All(serializable: true), deadline: Deadline());
            Assert.Equal(Keys, onFollower.Kvs.Count);
            Assert.Equal(onLeader.Header.Revision, onFollower.Header.Revision);
            Assert.Equal(
                onLeader.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToBase64(), kv.ModRevision)),
                onFollower.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToBase64(), kv.ModRevision)));

            // And it serves linearizable reads and new writes like any member.
            await cluster.Kv(follower).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("x") }, deadline: Deadline());
            var after = await cluster.Kv(follower).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("after") }, deadline: Deadline());
            Assert.Equal("x", Assert.Single(after.Kvs).Value.ToStringUtf8());
            var logs = cluster.Logs();
            Assert.Contains("received snapshot at index", logs, StringComparison.Ordinal);
            Assert.Contains("snapshot installed", logs, StringComparison.Ordinal);
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static PutRequest Put(int i)
    {
        var value = new byte[ValueBytes];
        new Random(i).NextBytes(value);
        return new PutRequest { Key = ByteString.CopyFromUtf8($"big/{i:D4}"), Value = ByteString.CopyFrom(value) };
    }

    private static RangeRequest All(bool serializable = false) =>
        new() { Key = ByteString.CopyFromUtf8("big/"), RangeEnd = ByteString.CopyFromUtf8("big0"), Serializable = serializable };

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);
}
