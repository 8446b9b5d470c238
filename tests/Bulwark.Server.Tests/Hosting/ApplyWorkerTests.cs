using Bulwark.Api.Etcdserverpb;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// The state machine runs on its own worker: a snapshot being written (held open here by a gate) must not stop the Raft
/// loop from ticking, heartbeating, committing or keeping its leadership, and a worker far behind turns proposals away.
/// </summary>
public sealed class ApplyWorkerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Delivers messages between in-process nodes when the test pumps (snapshot sends may arrive from other threads).</summary>
    private sealed class Router
    {
        private readonly Lock gate = new();
        private readonly Queue<Message> queue = new();

        public Dictionary<ulong, ReadyProcessor> Nodes { get; } = [];

        public List<Message> Delivered { get; } = [];

        public IPeerNetwork For() => new Endpoint(this);

        public void Pump()
        {
            for (var rounds = 0; rounds < 1000; rounds++)
            {
                foreach (var node in Nodes.Values)
                {
                    node.ProcessReadies();
                }

                Message? next;
                lock (gate)
                {
                    if (!queue.TryDequeue(out next))
                    {
                        return;
                    }
                }

                Delivered.Add(next);
                Nodes[next.To].Step(next);
            }
        }

        private sealed class Endpoint(Router router) : IPeerNetwork
        {
            public void Send(Message message)
            {
                lock (router.gate)
                {
                    router.queue.Enqueue(message);
                }
            }

            public void AddPeer(ulong id, string peerUrl)
            {
            }

            public void RemovePeer(ulong id)
            {
            }
        }
    }

    private static readonly ClusterMember[] TwoMembers =
    [
        new ClusterMember(7, "a", ["http://127.0.0.1:1"], []),
        new ClusterMember(8, "b", ["http://127.0.0.1:3"], []),
    ];

    private static NodeHostOptions Options(ulong id, ClusterMember[] members, ulong snapshotThreshold) => new()
    {
        NodeId = id,
        InitialCluster = members,
        DataDir = $"/n{id}",
        AdvertiseClientUrls = ["http://127.0.0.1:2"],
        SnapshotThreshold = snapshotThreshold,
        RandomSeed = (int)id,
    };

    private static byte[] PutCommand(ulong origin, ulong requestId, string key) => new Bulwark.Api.RaftCmd.RaftCommand
    {
        RequestId = requestId,
        Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = origin },
        Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v") },
    }.ToByteArray();

    [Fact]
    public void A_snapshot_in_progress_does_not_stall_ticks_heartbeats_or_commits()
    {
        var fs = new InMemoryFileSystem(seed: 11);
        var router = new Router();
        var pendingA = new PendingRequests(100);
        using var a = new ReadyProcessor(Options(7, TwoMembers, snapshotThreshold: 8), NodeStorage.Open(fs, "/n7"), router.For(), pendingA, NullLogger.Instance);
        using var b = new ReadyProcessor(Options(8, TwoMembers, snapshotThreshold: 1_000_000), NodeStorage.Open(fs, "/n8"), router.For(), new PendingRequests(1_000_000), NullLogger.Instance);
        router.Nodes[7] = a;
        router.Nodes[8] = b;
        a.Campaign();
        router.Pump();
        Assert.True(a.Status.IsLeader, "node 7 wins the election");

        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        a.BeforeSnapshotWrite = _ =>
        {
            entered.Set();
            release.Wait();
        };

        // The release comes in a finally: a failed assertion must not leave the worker blocked and Dispose waiting on it.
        var first = new List<Task<ApplyResult>>();
        var second = new List<Task<ApplyResult>>();
        try
        {
            for (ulong i = 1; i <= 10; i++)
            {
                first.Add(pendingA.RegisterProposal(i));
                a.Propose(i, PutCommand(7, i, $"k{i:D2}"));
            }

            router.Pump();
            Assert.True(entered.Wait(Patience), "the apply worker starts a snapshot and is held inside it");

            var term = a.Status.Term;
            var appliedWhileHeld = a.Status.Applied;
            var commitWhileHeld = a.Status.Commit;
            var heartbeatsBefore = router.Delivered.Count(m => m.From == 7 && m.Type == MessageType.Heartbeat);

            // Ten election timeouts of ticks on both nodes while the snapshot is held open.
            var electionTicks = Options(7, TwoMembers, 8).ElectionTicks;
            for (var t = 0; t < 10 * electionTicks; t++)
            {
                a.Tick();
                b.Tick();
                router.Pump();
                if (t < 5)
                {
                    var id = (ulong)(100 + t);
                    second.Add(pendingA.RegisterProposal(id));
                    a.Propose(id, PutCommand(7, id, $"later{t}"));
                    router.Pump();
                }
            }

            Assert.True(router.Delivered.Count(m => m.From == 7 && m.Type == MessageType.Heartbeat) > heartbeatsBefore, "heartbeats kept flowing");
            Assert.True(a.Status.IsLeader, "the leader kept its leadership");
            Assert.Equal(term, a.Status.Term);
            Assert.Equal(term, b.Status.Term);
            Assert.Equal(7UL, b.Status.Leader);
            Assert.True(a.Status.Commit >= commitWhileHeld + 5, "new proposals committed while the snapshot was being written");
            Assert.Equal(appliedWhileHeld, a.Status.Applied);
            Assert.All(second, w => Assert.False(w.IsCompleted));
        }
        finally
        {
            release.Set();
        }

        Assert.True(a.WaitUntilApplied(a.Status.Commit, Patience), "the worker catches up once the snapshot is written");
        router.Pump();
        Assert.All(first.Concat(second), w => Assert.True(w.IsCompletedSuccessfully && w.Result.Succeeded));
        Assert.True(a.Status.SnapshotIndex >= 8, "the loop compacted to the snapshot the worker wrote");
        Assert.True(a.Status.SnapshotIndex <= a.Status.Applied, "compaction never passes what was applied");
        Assert.Contains(fs.ListFiles("/n7/snap"), n => n.EndsWith(".snap", StringComparison.Ordinal));
    }

    [Fact]
    public void Proposals_are_refused_with_too_many_requests_while_applying_lags_far_behind()
    {
        var fs = new InMemoryFileSystem(seed: 12);
        var solo = new[] { new ClusterMember(7, "a", ["http://127.0.0.1:1"], []) };
        var pending = new PendingRequests(100);
        using var node = new ReadyProcessor(Options(7, solo, snapshotThreshold: 4), NodeStorage.Open(fs, "/n7"), new Router().For(), pending, NullLogger.Instance);
        for (var i = 0; i < 100 && !node.Status.IsLeader; i++)
        {
            node.Tick();
            node.ProcessReadies();
        }

        Assert.True(node.Status.IsLeader, "a one-node cluster elects itself");
        using var release = new ManualResetEventSlim();
        node.BeforeSnapshotWrite = _ => release.Wait();

        var waits = new List<Task<ApplyResult>>();
        ulong id = 0;
        List<Task<ApplyResult>> refused;
        try
        {
            for (var batch = 0; batch < 60; batch++)
            {
                for (var j = 0; j < 100; j++)
                {
                    id++;
                    waits.Add(pending.RegisterProposal(id));
                    node.Propose(id, PutCommand(7, id, $"k{id:D5}"));
                }

                node.ProcessReadies();
            }

            refused = waits.Where(w => w.IsFaulted).ToList();
            Assert.NotEmpty(refused);
            var error = Assert.IsType<NodeException>(refused[0].Exception!.InnerException);
            Assert.Equal(NodeError.TooManyRequests, error.Error);
            var status = Bulwark.Server.Api.NodeErrorStatus.For(error); // what a client is answered
            Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, status.StatusCode);
            Assert.Equal(Bulwark.Server.Api.NodeErrorStatus.TooManyRequestsMessage, status.Detail);
            Assert.True(node.Status.Commit - node.Status.Applied >= ReadyProcessor.MaxApplyLag, "refusals start only past the lag limit");
        }
        finally
        {
            release.Set();
        }

        Assert.True(node.WaitUntilApplied(node.Status.Commit, Patience), "the worker catches up");
        Assert.All(waits.Where(w => !w.IsFaulted), w => Assert.True(w.IsCompletedSuccessfully && w.Result.Succeeded));
        Assert.Equal(waits.Count - refused.Count, node.Read(s => (int)s.LiveKeyCount));
    }

    [Fact]
    public async Task A_member_replaying_its_log_after_a_restart_answers_catching_up_not_too_many_requests()
    {
        // Issue 15: a restarted member re-applies everything since its last snapshot (up to SnapshotThreshold entries).
        // That backlog is recovery, not overload: "too many requests" must keep meaning that this member is overloaded.
        var fs = new InMemoryFileSystem(seed: 13);
        var solo = new[] { new ClusterMember(7, "a", ["http://127.0.0.1:1"], []) };
        var entries = (int)ReadyProcessor.MaxApplyLag + 1000;
        ulong id = 0;
        using (var first = new ReadyProcessor(Options(7, solo, snapshotThreshold: 100_000), NodeStorage.Open(fs, "/n7"), new Router().For(), new PendingRequests(100_000), NullLogger.Instance))
        {
            ElectSolo(first);
            for (var batch = 0; batch < entries / 100; batch++)
            {
                for (var j = 0; j < 100; j++)
                {
                    id++;
                    first.Propose(id, PutCommand(7, id, $"k{id:D5}"));
                }

                first.ProcessReadies();
                // Applied before the next batch, so the first run itself never lags (no proposal refused): every entry is in the log.
                Assert.True(first.WaitUntilApplied(first.Status.Commit, Patience), "the first run applies each batch");
            }

            Assert.True(first.Status.Commit > (ulong)entries, $"every proposal of the first run committed: {first.Status}");
        }

        // The restart: the worker is held before it applies anything, so the whole recovered log waits to be applied.
        // (The release comes in a finally: a failed assertion must not leave the worker blocked and Dispose waiting on it.)
        using var release = new ManualResetEventSlim();
        var pending = new PendingRequests(100);
        using var node = new ReadyProcessor(Options(7, solo, snapshotThreshold: 100_000), NodeStorage.Open(fs, "/n7"), new Router().For(), pending, NullLogger.Instance);
        node.BeforeApplyBatch = _ => release.Wait();
        try
        {
            ElectSolo(node);
            id++;
            var refused = pending.RegisterProposal(id);
            node.Propose(id, PutCommand(7, id, "during-replay"));
            Assert.True(refused.IsFaulted, $"a proposal while thousands of recovered entries wait to be applied is refused ({node.Status})");
            var error = Assert.IsType<NodeException>(refused.Exception!.InnerException);
            Assert.Equal(NodeError.CatchingUp, error.Error);
            var status = Bulwark.Server.Api.NodeErrorStatus.For(error);
            Assert.Equal(Grpc.Core.StatusCode.Unavailable, status.StatusCode); // clients retry it on another member
            Assert.Equal(Bulwark.Server.Api.NodeErrorStatus.CatchingUpMessage, status.Detail);
        }
        finally
        {
            node.BeforeApplyBatch = null;
            release.Set();
        }

        Assert.True(node.WaitUntilApplied(node.Status.Commit, Patience), "the replay finishes");
        id++;
        var accepted = pending.RegisterProposal(id);
        node.Propose(id, PutCommand(7, id, "after-replay"));
        for (var i = 0; i < 3; i++)
        {
            node.ProcessReadies();
        }

        Assert.True((await accepted.WaitAsync(Patience)).Succeeded, "once caught up, proposals go through");
    }

    [Fact]
    public async Task Entries_are_applied_and_answered_while_a_snapshot_is_written_and_the_log_is_compacted_only_after_it()
    {
        var fs = new InMemoryFileSystem(seed: 14);
        var solo = new[] { new ClusterMember(7, "a", ["http://127.0.0.1:1"], []) };
        var pending = new PendingRequests(100_000);
        ulong id = 0;
        ulong heldAt = 0;
        ulong hash;
        long revision;
        using (var node = new ReadyProcessor(Options(7, solo, snapshotThreshold: 1000), NodeStorage.Open(fs, "/n7"), new Router().For(), pending, NullLogger.Instance))
        {
            ElectSolo(node);
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            node.BetweenSnapshotChunks = index =>
            {
                Volatile.Write(ref heldAt, index);
                entered.Set();
                release.Wait();
            };

            try
            {
                // 1,200 keys: the threshold snapshot begins after 1,000 entries and has several chunks of keys to write.
                var first = new List<Task<ApplyResult>>();
                for (var batch = 0; batch < 12; batch++)
                {
                    for (var j = 0; j < 100; j++)
                    {
                        id++;
                        first.Add(pending.RegisterProposal(id));
                        node.Propose(id, PutCommand(7, id, $"k{id:D5}"));
                    }

                    node.ProcessReadies();
                    await Task.WhenAll(first).WaitAsync(Patience); // the first puts are answered
                }

                Assert.True(entered.Wait(Patience), "the snapshot writer reaches its second chunk and is held there");
                var snapshotAt = Volatile.Read(ref heldAt);
                Assert.True(node.Status.SnapshotIndex < snapshotAt, "the log is not compacted to a snapshot still being written");

                // Held inside the snapshot, the worker goes on applying and answering: overwrites, deletes, new keys
                // (index splits) and a compaction whose history dropping the snapshot defers.
                var during = new List<Task<ApplyResult>>();
                for (var j = 0; j < 300; j++)
                {
                    id++;
                    during.Add(pending.RegisterProposal(id));
                    var command = (j % 10) switch
                    {
                        0 => Command(7, id, c => c.DeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8($"k{j + 1:D5}") }),
                        5 when j == 155 => Command(7, id, c => c.Compaction = new CompactionRequest { Revision = 900 }),
                        _ => PutCommand(7, id, j % 2 == 0 ? $"k{j + 1:D5}" : $"new{j:D5}"),
                    };
                    node.Propose(id, command);
                    node.ProcessReadies();
                }

                await Task.WhenAll(during).WaitAsync(Patience); // entries committed during the snapshot are applied and answered
                Assert.All(during, w => Assert.True(w.Result.Succeeded, w.Result.Error?.Message));
                Assert.True(node.Status.Applied > snapshotAt + 250, $"applied {node.Status.Applied} past the snapshot at {snapshotAt}");
                node.ProcessReadies();
                Assert.True(node.Status.SnapshotIndex < snapshotAt, "still no log compaction while the snapshot is held");
                Assert.DoesNotContain(fs.ListFiles("/n7/snap"), n => n.EndsWith(".snap", StringComparison.Ordinal));
            }
            finally
            {
                node.BetweenSnapshotChunks = null;
                release.Set();
            }

            Assert.True(node.WaitUntilApplied(node.Status.Commit, Patience), "the snapshot ends");
            node.ProcessReadies();
            Assert.True(node.Status.SnapshotIndex >= Volatile.Read(ref heldAt), "the loop compacted the log to the written snapshot");
            Assert.Contains(fs.ListFiles("/n7/snap"), n => n.EndsWith(".snap", StringComparison.Ordinal));
            hash = node.Read(s => s.ContentHash());
            revision = node.Read(s => s.Revision);
        }

        // Restart from that snapshot and the log after it: the same store, to the last byte of its snapshot.
        using var restarted = new ReadyProcessor(Options(7, solo, snapshotThreshold: 100_000), NodeStorage.Open(fs, "/n7"), new Router().For(), new PendingRequests(100_000), NullLogger.Instance);
        ElectSolo(restarted);
        Assert.True(restarted.WaitUntilApplied(restarted.Status.Commit, Patience), "the restarted node replays its log");
        Assert.Equal(revision, restarted.Read(s => s.Revision));
        Assert.Equal(hash, restarted.Read(s => s.ContentHash()));
    }

    private static byte[] Command(ulong origin, ulong requestId, Action<Bulwark.Api.RaftCmd.RaftCommand> fill)
    {
        var command = new Bulwark.Api.RaftCmd.RaftCommand
        {
            RequestId = requestId,
            Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = origin },
        };
        fill(command);
        return command.ToByteArray();
    }

    private static void ElectSolo(ReadyProcessor node)
    {
        for (var i = 0; i < 100 && !node.Status.IsLeader; i++)
        {
            node.Tick();
            node.ProcessReadies();
        }

        Assert.True(node.Status.IsLeader, "a one-node cluster elects itself");
    }
}
