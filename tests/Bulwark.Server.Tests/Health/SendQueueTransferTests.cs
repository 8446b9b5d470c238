using Bulwark.Consensus;
using Bulwark.Server.Health;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Health;

/// <summary>
/// The leader's host samples its send queue to every follower each tick (IPeerNetwork.QueuedTo): queues growing towards
/// every follower at once are the leader's own outbound path failing, and it hands leadership over; one follower's
/// queue alone is that follower's problem.
/// </summary>
public sealed class SendQueueTransferTests
{
    private static readonly ClusterMember[] Members =
    [
        new ClusterMember(1, "a", ["http://127.0.0.1:1"], []),
        new ClusterMember(2, "b", ["http://127.0.0.1:2"], []),
        new ClusterMember(3, "c", ["http://127.0.0.1:3"], []),
    ];

    /// <summary>Three in-process hosts on one fake clock; messages are delivered when the test pumps.</summary>
    private sealed class Cluster : IDisposable
    {
        private readonly Queue<Message> inFlight = new();

        public Cluster()
        {
            var fs = new InMemoryFileSystem(seed: 5);
            foreach (var member in Members)
            {
                var options = new NodeHostOptions
                {
                    NodeId = member.Id,
                    InitialCluster = Members,
                    DataDir = $"/n{member.Id}",
                    AdvertiseClientUrls = ["http://127.0.0.1:9"],
                    RandomSeed = (int)member.Id,
                };
                Nodes[member.Id] = new ReadyProcessor(options, NodeStorage.Open(fs, options.DataDir), new Endpoint(this, member.Id),
                    new PendingRequests(member.Id << 32), NullLogger.Instance, driver: new HostDriver { Time = Time, InlineApply = true });
            }
        }

        public FakeTimeProvider Time { get; } = new();

        public Dictionary<ulong, ReadyProcessor> Nodes { get; } = [];

        /// <summary>What each member's transport says is queued towards (sender, receiver).</summary>
        public Dictionary<(ulong From, ulong To), int> Queued { get; } = [];

        public ulong Leader => Nodes.Values.Where(n => n.Status.IsLeader).Select(n => n.Status.Id).SingleOrDefault();

        /// <summary>One heartbeat interval passes: every member ticks, then messages are delivered until none are left.</summary>
        public void Step()
        {
            Time.Advance(TimeSpan.FromMilliseconds(50));
            foreach (var node in Nodes.Values)
            {
                node.Tick();
            }

            Pump();
        }

        public void Pump()
        {
            for (var rounds = 0; rounds < 10_000; rounds++)
            {
                foreach (var node in Nodes.Values)
                {
                    node.ProcessReadies();
                }

                if (!inFlight.TryDequeue(out var next))
                {
                    return;
                }

                Nodes[next.To].Step(next);
            }
        }

        public void Dispose()
        {
            foreach (var node in Nodes.Values)
            {
                node.Dispose();
            }
        }

        private sealed class Endpoint(Cluster cluster, ulong self) : IPeerNetwork
        {
            public void Send(Message message) => cluster.inFlight.Enqueue(message);

            public void AddPeer(ulong id, string peerUrl)
            {
            }

            public void RemovePeer(ulong id)
            {
            }

            public int QueuedTo(ulong peer) => cluster.Queued.GetValueOrDefault((self, peer));
        }
    }

    private static Cluster LeaderOneAfterTenHealthySeconds()
    {
        var cluster = new Cluster();
        cluster.Nodes[1].Campaign();
        cluster.Pump();
        Assert.Equal(1UL, cluster.Leader);
        for (var i = 0; i < 200; i++)
        {
            cluster.Step();
        }

        Assert.Equal(1UL, cluster.Leader);
        Assert.Equal(0, cluster.Nodes[1].HealthTransfers);
        return cluster;
    }

    [Fact]
    public void A_leader_whose_queues_to_every_follower_grow_hands_leadership_over()
    {
        using var cluster = LeaderOneAfterTenHealthySeconds();
        cluster.Queued[(1, 2)] = 2_000;
        cluster.Queued[(1, 3)] = 2_000;
        for (var i = 0; i < 200 && cluster.Leader is 1 or 0; i++)
        {
            cluster.Step();
        }

        Assert.Equal(1, cluster.Nodes[1].HealthTransfers);
        Assert.NotEqual(0UL, cluster.Leader);
        Assert.NotEqual(1UL, cluster.Leader);
        Assert.Contains(cluster.Nodes[1].SelfHealth!.LastDegradation, d => d.Metric == HealthMetric.SendQueue && d.Value == 2_000);
    }

    [Fact]
    public void One_follower_backed_up_is_not_the_leaders_problem()
    {
        using var cluster = LeaderOneAfterTenHealthySeconds();
        cluster.Queued[(1, 3)] = 4_096;
        for (var i = 0; i < 400; i++)
        {
            cluster.Step();
        }

        Assert.Equal(1UL, cluster.Leader);
        Assert.Equal(0, cluster.Nodes[1].HealthTransfers);
    }
}
