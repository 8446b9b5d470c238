using Bulwark.Consensus;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// The log keeps a tail behind each snapshot (--snapshot-catchup-entries): a follower that never went down but fell a
/// little behind the snapshot index (here: the appends to it are lost for a while under steady writes) catches up from
/// the log. Without the tail the same follower needs a whole snapshot.
/// </summary>
public sealed class SnapshotCatchUpTests
{
    [Fact]
    public async Task A_follower_that_lags_just_behind_the_snapshot_catches_up_without_one()
    {
        var sent = await SnapshotsSentToAFollowerLaggingBehindTheSnapshot(NodeHostOptions.DefaultSnapshotCatchUpEntries);
        Assert.Equal(0, sent);
    }

    [Fact]
    public async Task Without_a_kept_tail_the_same_follower_needs_a_snapshot()
    {
        var sent = await SnapshotsSentToAFollowerLaggingBehindTheSnapshot(catchUpEntries: 0);
        Assert.True(sent > 0, "compacting exactly at the snapshot leaves a follower just behind it nothing to append");
    }

    /// <summary>
    /// Three nodes under concurrent writes; one follower stays up but the appends to it are dropped until every other
    /// node's newest snapshot is past its last entry, then it catches up. Returns the snapshots all nodes sent.
    /// </summary>
    private static async Task<long> SnapshotsSentToAFollowerLaggingBehindTheSnapshot(ulong catchUpEntries)
    {
        var lagging = new LaggingMember();
        await using var cluster = new LocalCluster(3, snapshotThreshold: 100, adjust: o => o with
        {
            SnapshotCatchUpEntries = catchUpEntries,
            DropPeerMessage = m => m.Type == MessageType.Append && m.To == lagging.Id,
        });
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        var others = Enumerable.Range(0, 3).Where(i => i != follower).ToList();

        using var stopWriting = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stopWriting.IsCancellationRequested; n++)
            {
                try
                {
                    await cluster.Node(others[n % 2]).ProposeAsync(NodeHostClusterTests.Put($"w{w}-{n}", "v"));
                }
                catch (NodeException)
                {
                    // Refused (no leader yet, a leader change): write again once a leader is there, not on a timer.
                    await LocalCluster.EventuallyAsync(
                        () => stopWriting.IsCancellationRequested || cluster.Running.Any(i => cluster.Node(i).Status.IsLeader),
                        "a leader to write through");
                }
            }
        })).ToList();

        await LocalCluster.EventuallyAsync(() => cluster.Node(follower).Status.Applied > 20, "the follower applies the first writes");
        lagging.Id = cluster.Node(follower).MemberId;
        await LocalCluster.EventuallyAsync(
            () => others.All(i => cluster.Node(i).Status.SnapshotIndex > cluster.Node(follower).Status.LastIndex + 10),
            "every other node snapshotted past the lagging follower's last entry");
        lagging.Id = 0;

        var caughtUpTo = others.Max(i => cluster.Node(i).Status.SnapshotIndex);
        await LocalCluster.EventuallyAsync(() => cluster.Node(follower).Status.Applied > caughtUpTo, "the follower catches up past the snapshot");
        await stopWriting.CancelAsync();
        await Task.WhenAll(writers);
        await cluster.WaitForConvergenceAsync(others[0]);
        // What etcd_network_snapshot_send_success{To} reports, summed over every node and peer.
        return cluster.Running.Sum(i => cluster.Node(i).PeerTransportStats().Sum(p => p.SnapshotsSent));
    }

    /// <summary>The member the appends to which are dropped (0 = none), shared with every node's loop.</summary>
    private sealed class LaggingMember
    {
        private long id;

        public ulong Id
        {
            get => (ulong)Interlocked.Read(ref id);
            set => Interlocked.Exchange(ref id, (long)value);
        }
    }
}
