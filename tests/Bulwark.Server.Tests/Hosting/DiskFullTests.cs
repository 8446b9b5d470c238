using Bulwark.Api.Etcdserverpb;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Admin;
using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Api;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using static Bulwark.Server.Tests.Hosting.NodeHostClusterTests;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// A node whose disk fills up stays up: it refuses writes with etcd's NOSPACE error and raises the alarm, keeps serving
/// serializable reads, and resumes (alarm cleared) when space returns, without losing or inventing a write. The WAL's
/// segments are small so that filling the current one takes a few dozen writes; the disk is "full" when no new segment
/// fits (InMemoryFileSystem.CapacityBytes).
/// </summary>
public sealed class DiskFullTests
{
    private static readonly WalOptions SmallSegments = new() { SegmentSize = 16 * 1024, WriteBufferSize = 4096 };
    private static readonly string Value = new('v', 500);

    [Fact]
    public async Task A_full_disk_refuses_writes_with_etcds_error_keeps_reads_and_resumes_when_space_returns()
    {
        var journalDir = Path.Combine(Path.GetTempPath(), "bulwark-diskfull-" + Guid.NewGuid().ToString("N")[..12]);
        NodeObservability? observability = null;
        await using var cluster = new LocalCluster(1, adjust: o =>
        {
            observability = new NodeObservability(o.NodeId, o.InitialCluster, journalDir, o.HeartbeatInterval, o.ElectionTimeout, NullLoggerFactory.Instance);
            return o with { Wal = SmallSegments, Observer = observability };
        });
        await using var observed = observability!;
        var fs = new InMemoryFileSystem(seed: 3);
        var node = cluster.Start(0, fs);
        observed.Attach(node);
        await cluster.WaitForLeaderAsync();
        var acknowledged = new Dictionary<string, string>();
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await node.ProposeAsync(Put($"before-{i}", Value))).Succeeded);
            acknowledged[$"before-{i}"] = Value;
        }

        fs.CapacityBytes = fs.UsedBytes; // no room for another WAL segment
        var uncertain = await WriteUntilTheAlarmAsync(node, acknowledged);

        // Writes are refused at once, before proposing, with the error etcd clients recognise.
        var refused = NodeErrorStatus.For(await Assert.ThrowsAsync<NodeException>(() => node.ProposeAsync(Put("refused", "x"))));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("etcdserver: mvcc: database space exceeded", refused.Detail);

        // Serializable reads keep working; linearizable ones fail fast with a clear error instead of hanging.
        Assert.Equal(Value, Get(node, "before-0"));
        Assert.Null(Get(node, "refused"));
        var linearizable = NodeErrorStatus.For(await Assert.ThrowsAsync<NodeException>(() => node.LinearizableBarrierAsync()));
        Assert.Equal(StatusCode.Unavailable, linearizable.StatusCode);
        Assert.Contains("serializable", linearizable.Detail, StringComparison.Ordinal);

        // The alarm shows everywhere: Alarm RPC, status, /health and /readyz, the observer (journal).
        var maintenance = new MaintenanceService(node);
        var listed = await maintenance.Alarm(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, TestCallContext.Anonymous());
        var alarm = Assert.Single(listed.Alarms);
        Assert.Equal(node.MemberId, alarm.MemberID);
        Assert.Equal(AlarmType.Nospace, alarm.Alarm);
        Assert.True(node.Status.NoSpaceAlarm);
        Assert.Equal([DiskSpaceAlarm.Name], MemberVitals.Local(observed, node, DateTimeOffset.UtcNow).Alarms); // the status page's alarms
        var health = HealthCheck.Etcd(node.Status);
        Assert.Equal((false, "ALARM NOSPACE", 503), (health.Healthy, health.Reason, health.StatusCode));
        Assert.False(HealthCheck.Ready(node.Status).Healthy);
        Assert.Equal([JournalEvents.AlarmRaised], AlarmEvents(observed));
        Assert.Contains("bulwark_alarm_active{alarm=\"NOSPACE\"} 1\n", observed.ScrapeMetrics(), StringComparison.Ordinal);

        // Disarming while the disk is still full leaves the alarm raised.
        await maintenance.Alarm(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace }, TestCallContext.Anonymous());
        Assert.True(node.NoSpaceAlarm);

        // Space returns: the held write goes through, the alarm clears, writes resume.
        fs.CapacityBytes = null;
        await LocalCluster.EventuallyAsync(() => !node.NoSpaceAlarm, "the NOSPACE alarm clears once space returns");
        Assert.Equal([JournalEvents.AlarmRaised, JournalEvents.AlarmCleared], AlarmEvents(observed));
        Assert.Contains("bulwark_alarm_active{alarm=\"NOSPACE\"} 0\n", observed.ScrapeMetrics(), StringComparison.Ordinal);
        Assert.Empty((await maintenance.Alarm(new AlarmRequest(), TestCallContext.Anonymous())).Alarms);
        Assert.True(HealthCheck.Etcd(node.Status).Healthy);
        Assert.True((await node.ProposeAsync(Put("after", "1"))).Succeeded);
        acknowledged["after"] = "1";
        await SettleAsync(uncertain, acknowledged);
        await node.LinearizableBarrierAsync();
        AssertHolds(node, acknowledged);
        Assert.Null(Get(node, "refused"));

        // Everything acknowledged is durable: a power loss and restart from the same disk reads it all back.
        await cluster.StopAsync(0);
        fs.Crash();
        node = cluster.Start(0, fs);
        await cluster.WaitForLeaderAsync();
        await node.LinearizableBarrierAsync();
        AssertHolds(node, acknowledged);
        Assert.Null(Get(node, "refused"));
    }

    [Fact]
    public async Task When_the_leaders_disk_fills_the_others_take_over_and_it_catches_up_when_space_returns()
    {
        await using var cluster = new LocalCluster(3, adjust: o => o with { Wal = SmallSegments });
        var disks = Enumerable.Range(0, 3).Select(i => new InMemoryFileSystem(seed: 10 + i)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            cluster.Start(i, disks[i]);
        }

        var full = await cluster.WaitForLeaderAsync();
        var fullNode = cluster.Node(full);
        var acknowledged = new Dictionary<string, string>();
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await fullNode.ProposeAsync(Put($"before-{i}", Value))).Succeeded);
            acknowledged[$"before-{i}"] = Value;
        }

        disks[full].CapacityBytes = disks[full].UsedBytes;

        // Keep writing through the others until the full leader's alarm is up, another member leads, and writes
        // are acknowledged under it. Writes caught in the hand-over have an uncertain outcome and are settled later.
        var others = Enumerable.Range(0, 3).Where(i => i != full).ToArray();
        var uncertain = new List<(string Key, Task<ApplyResult> Put)>();
        var acknowledgedUnderNewLeader = 0;
        var deadline = DateTime.UtcNow + (3 * LocalCluster.Patience); // writes forwarded to the paused leader each wait out the request timeout
        for (var n = 0; acknowledgedUnderNewLeader < 10; n++)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the others to take over and acknowledge writes");
            var via = cluster.Node(others[n % 2]);
            var key = $"during-{n}";
            var put = via.ProposeAsync(Put(key, Value));
            try
            {
                if ((await put).Succeeded)
                {
                    acknowledged[key] = Value;
                    if (fullNode.NoSpaceAlarm && others.Any(i => cluster.Node(i).Status.IsLeader))
                    {
                        acknowledgedUnderNewLeader++;
                    }
                }
            }
            catch (NodeException)
            {
                uncertain.Add((key, put));
                await Task.Delay(50);
            }
        }

        Assert.True(fullNode.NoSpaceAlarm);
        Assert.True(fullNode.Status.NoSpaceAlarm);
        Assert.Equal(Value, Get(fullNode, "before-0")); // the full member still serves serializable reads
        var refused = NodeErrorStatus.For(await Assert.ThrowsAsync<NodeException>(() => fullNode.ProposeAsync(Put("refused", "x"))));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

        // Space returns: the full member resumes, follows the new leader and catches up on every acknowledged write.
        disks[full].CapacityBytes = null;
        await LocalCluster.EventuallyAsync(() => !fullNode.NoSpaceAlarm, "the NOSPACE alarm clears once space returns");
        var leader = await cluster.WaitForLeaderAsync();
        Assert.True((await cluster.Node(leader).ProposeAsync(Put("after", "1"))).Succeeded);
        acknowledged["after"] = "1";
        await SettleAsync(uncertain, acknowledged);
        await cluster.WaitForConvergenceAsync(leader);
        for (var i = 0; i < 3; i++)
        {
            AssertHolds(cluster.Node(i), acknowledged);
            Assert.Null(Get(cluster.Node(i), "refused"));
        }
    }

    [Fact]
    public async Task A_snapshot_that_finds_the_disk_full_raises_the_alarm_instead_of_stopping_the_node()
    {
        var alarms = new AlarmRecorder();
        await using var cluster = new LocalCluster(1, snapshotThreshold: 20, adjust: o => o with { Observer = alarms });
        var fs = new InMemoryFileSystem(seed: 4);
        var node = cluster.Start(0, fs);
        await cluster.WaitForLeaderAsync();
        fs.CapacityBytes = fs.UsedBytes; // the default 64 MiB segment has room for the log, none for a snapshot file
        var acknowledged = new Dictionary<string, string>();
        for (var n = 0; !node.NoSpaceAlarm; n++)
        {
            Assert.True(n < 200, "no snapshot hit the full disk");
            try
            {
                Assert.True((await node.ProposeAsync(Put($"k-{n}", "v"))).Succeeded);
                acknowledged[$"k-{n}"] = "v";
            }
            catch (NodeException e) when (NodeErrorStatus.For(e).StatusCode == StatusCode.ResourceExhausted)
            {
                break; // the alarm went up between the check and the proposal
            }
        }

        Assert.False(node.Completion.IsCompleted);
        Assert.False(node.Status.SnapshotIndex > 0);
        var refused = NodeErrorStatus.For(await Assert.ThrowsAsync<NodeException>(() => node.ProposeAsync(Put("refused", "x"))));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        await node.LinearizableBarrierAsync(); // the log is not blocked, so linearizable reads still work
        AssertHolds(node, acknowledged);

        fs.CapacityBytes = null;
        await LocalCluster.EventuallyAsync(() => !node.NoSpaceAlarm, "the snapshot is retried and the alarm clears");
        Assert.Equal(["raised NOSPACE", "cleared NOSPACE"], alarms.Events);
        await LocalCluster.EventuallyAsync(() => node.Status.SnapshotIndex > 0, "the snapshot is written and the log compacted");
        Assert.True((await node.ProposeAsync(Put("after", "1"))).Succeeded);
    }

    /// <summary>
    /// Writes one key at a time until the alarm is raised. The write whose persist found the disk full is neither
    /// acknowledged nor refused (it may still commit when space returns): it is returned as uncertain.
    /// </summary>
    private static async Task<List<(string Key, Task<ApplyResult> Put)>> WriteUntilTheAlarmAsync(NodeHost node, Dictionary<string, string> acknowledged)
    {
        var uncertain = new List<(string, Task<ApplyResult>)>();
        for (var n = 0; !node.NoSpaceAlarm; n++)
        {
            Assert.True(n < 2000, "the disk never filled up");
            var key = $"fill-{n}";
            var put = node.ProposeAsync(Put(key, Value));
            await LocalCluster.EventuallyAsync(() => put.IsCompleted || node.NoSpaceAlarm, $"{key} completes or the alarm is raised");
            if (put.IsCompletedSuccessfully && put.Result.Succeeded)
            {
                acknowledged[key] = Value;
            }
            else
            {
                uncertain.Add((key, put));
            }
        }

        return uncertain;
    }

    /// <summary>A write with an uncertain outcome that finally succeeded is acknowledged; one that failed may or may not be there.</summary>
    private static async Task SettleAsync(List<(string Key, Task<ApplyResult> Put)> uncertain, Dictionary<string, string> acknowledged)
    {
        foreach (var (key, put) in uncertain)
        {
            try
            {
                if ((await put).Succeeded)
                {
                    acknowledged[key] = Value;
                }
            }
            catch (NodeException e)
            {
                Assert.Equal(StatusCode.Unavailable, NodeErrorStatus.For(e).StatusCode);
            }
        }
    }

    private static List<string> AlarmEvents(NodeObservability observability) =>
        [.. observability.Journal.Recent().Where(e => e.Reason == DiskSpaceAlarm.Name).Select(e => e.Kind)];

    private static void AssertHolds(NodeHost node, Dictionary<string, string> acknowledged)
    {
        foreach (var (key, value) in acknowledged)
        {
            Assert.True(Get(node, key) == value, $"member {node.Name} lost acknowledged key {key}");
        }
    }

    private sealed class AlarmRecorder : INodeObserver
    {
        private readonly List<string> events = [];

        public IReadOnlyList<string> Events
        {
            get
            {
                lock (events)
                {
                    return [.. events];
                }
            }
        }

        public void Alarm(string alarm, bool raised)
        {
            lock (events)
            {
                events.Add($"{(raised ? "raised" : "cleared")} {alarm}");
            }
        }

        public void MessageReceived(Message message)
        {
        }

        public void MessageSent(Message message)
        {
        }

        public void Persisted(TimeSpan duration, bool synced)
        {
        }

        public void SnapshotTaken(ulong index, long bytes, TimeSpan duration)
        {
        }

        public void ProposalFailed()
        {
        }

        public void SnapshotInstalled(ulong index, long bytes)
        {
        }
    }
}
