using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// A cluster of node hosts in this process on loopback, with real storage in a temp directory and real sockets.
/// A node can be stopped (disposed) and restarted from its data dir on the same ports.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string root;
    private readonly NodeHost?[] nodes;

    public LocalCluster(int size, ulong snapshotThreshold = 10_000, Func<NodeHostOptions, NodeHostOptions>? adjust = null)
    {
        root = Path.Combine(Path.GetTempPath(), "bulwark-host-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var peerPorts = LoopbackPorts.Take(size);
        var clientPorts = LoopbackPorts.Take(size);
        Members = Enumerable.Range(0, size)
            .Select(i => new ClusterMember(ClusterMember.IdFromName($"n{i + 1}"), $"n{i + 1}", [$"http://127.0.0.1:{peerPorts[i]}"], []))
            .ToList();
        ClientUrls = clientPorts.Select(p => $"http://127.0.0.1:{p}").ToList();
        Options = Enumerable.Range(0, size).Select(i =>
        {
            var options = new NodeHostOptions
            {
                NodeId = Members[i].Id,
                InitialCluster = Members,
                DataDir = Path.Combine(root, $"n{i + 1}"),
                AdvertiseClientUrls = [ClientUrls[i]],
                SnapshotThreshold = snapshotThreshold,
                RandomSeed = 17 + i,
            };
            return adjust is null ? options : adjust(options);
        }).ToList();
        nodes = new NodeHost?[size];
    }

    public IReadOnlyList<ClusterMember> Members { get; }

    public IReadOnlyList<string> ClientUrls { get; }

    public IReadOnlyList<NodeHostOptions> Options { get; }

    public int Size => nodes.Length;

    public NodeHost Node(int i) => nodes[i] ?? throw new InvalidOperationException($"node {i} is stopped");

    public bool IsRunning(int i) => nodes[i] is not null;

    public IEnumerable<int> Running => Enumerable.Range(0, Size).Where(IsRunning);

    public void StartAll()
    {
        for (var i = 0; i < Size; i++)
        {
            Start(i);
        }
    }

    /// <summary>The clock node i is started with (null: the system's).</summary>
    public Func<int, TimeProvider?> Clock { get; set; } = _ => null;

    public NodeHost Start(int i, Bulwark.Storage.FileSystem.IFileSystem? fileSystem = null)
    {
        var node = NodeHost.Start(Options[i], NullLoggerFactory.Instance, Clock(i), fileSystem);
        nodes[i] = node;
        return node;
    }

    public async Task StopAsync(int i)
    {
        var node = nodes[i];
        nodes[i] = null;
        if (node is not null)
        {
            await node.DisposeAsync();
        }
    }

    /// <summary>Waits until one running node leads and every running node knows it; returns its index.</summary>
    public async Task<int> WaitForLeaderAsync(int? notThis = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (AgreedLeader(notThis) is { } leader)
            {
                return leader;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for a leader every running node agrees on");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Elects a leader by explicit campaigns of <paramref name="candidate"/>, for clusters whose election timers never
    /// fire within a test. A single campaign is not enough: the transport drops what is queued for a peer when a dial
    /// to it fails, and at startup a node dials its peers before they listen, so the first campaign's votes can be
    /// dropped (a timer would campaign again; here nothing would). Campaigns again each second until a leader is agreed.
    /// </summary>
    public async Task<int> ElectAsync(int candidate)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            Node(candidate).Campaign();
            var again = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            while (DateTime.UtcNow < again)
            {
                if (AgreedLeader(null) is { } leader)
                {
                    return leader;
                }

                await Task.Delay(20);
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out electing a leader by campaigns of node {candidate}");
        }
    }

    /// <summary>The running node (other than <paramref name="notThis"/>) that leads with every running node knowing it, if any.</summary>
    private int? AgreedLeader(int? notThis)
    {
        var leaders = Running.Where(i => Node(i).Status.IsLeader && i != notThis).ToList();
        if (leaders.Count != 1)
        {
            return null;
        }

        var id = Node(leaders[0]).MemberId;
        return Running.All(i => Node(i).Status.Leader == id) ? leaders[0] : null;
    }

    /// <summary>Waits until every running node has applied at least what the given node has committed.</summary>
    public async Task WaitForConvergenceAsync(int reference)
    {
        var target = Node(reference).Status.Commit;
        await EventuallyAsync(() => Running.All(i => Node(i).Status.Applied >= target), $"all nodes applied index {target}");
    }

    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            await StopAsync(i);
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

}
