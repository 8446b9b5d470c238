using System.Collections.Immutable;

namespace Bulwark.Consensus.Tests;

/// <summary>What one test node keeps on its "disk" and what it applied.</summary>
internal sealed class TestPeer
{
    public required RaftNode Node { get; set; }
    public RaftConfig Config { get; set; } = null!;
    public HardState HardState { get; set; }
    public SnapshotMetadata? Snapshot { get; set; }
    public List<Entry> Log { get; } = [];
    public List<Entry> Applied { get; } = [];
    public List<ReadState> ReadStates { get; } = [];
    public ulong AppliedIndex { get; set; }
    public bool Down { get; set; }

    public void Persist(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            Snapshot = snapshot.Metadata;
            Log.Clear();
            AppliedIndex = snapshot.Metadata.Index;
        }

        if (!ready.Entries.IsEmpty)
        {
            var first = ready.Entries[0].Index;
            var offset = Snapshot?.Index ?? 0;
            var keep = (int)(first - offset - 1);
            if (keep < Log.Count)
            {
                Log.RemoveRange(keep, Log.Count - keep);
            }

            Log.AddRange(ready.Entries);
        }

        if (ready.HardState is { } hard)
        {
            HardState = hard;
        }
    }

    public RaftState Recover() =>
        new(HardState, Snapshot, [.. Log], AppliedIndex);
}

/// <summary>
/// A synchronous in-memory network for unit tests: every Ready is handled exactly as the contract says
/// (Messages out, persist, MessagesAfterPersist out, apply, Advance), then queued messages are delivered
/// in order until the cluster is quiet. Filters drop messages to model partitions and loss.
/// </summary>
internal sealed class TestCluster
{
    private readonly Queue<Message> inFlight = new();
    private readonly int seed;

    public TestCluster(int voters, Func<RaftConfig, RaftConfig>? configure = null, int seed = 1, int learners = 0)
    {
        this.seed = seed;
        Configure = configure ?? (c => c);
        var voterIds = Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray();
        var learnerIds = Enumerable.Range(voters + 1, learners).Select(i => (ulong)i).ToArray();
        var initial = new ClusterConfig(ImmutableSortedSet.Create(voterIds), ImmutableSortedSet.Create(learnerIds), []);
        foreach (var id in voterIds.Concat(learnerIds))
        {
            AddPeer(id, RaftState.Bootstrap(initial));
        }
    }

    public Func<RaftConfig, RaftConfig> Configure { get; }

    public SortedDictionary<ulong, TestPeer> Peers { get; } = [];

    /// <summary>Return false to drop a message.</summary>
    public List<Func<Message, bool>> Filters { get; } = [];

    /// <summary>Rewrites messages in flight (after the filters).</summary>
    public List<Func<Message, Message>> Transforms { get; } = [];

    public List<Message> Delivered { get; } = [];

    public RaftNode this[ulong id] => Peers[id].Node;

    public TestPeer AddPeer(ulong id, RaftState state)
    {
        var config = Configure(new RaftConfig { Id = id });
        var peer = new TestPeer
        {
            Node = new RaftNode(config, state, new SeededRandom(seed * 1000 + (int)id)), Config = config,
            HardState = state.HardState, Snapshot = state.Snapshot, AppliedIndex = state.Applied,
        };
        peer.Log.AddRange(state.Entries);
        Peers[id] = peer;
        return peer;
    }

    /// <summary>Crash and restart: the node comes back from what it persisted.</summary>
    public void Restart(ulong id)
    {
        var peer = Peers[id];
        peer.Node = new RaftNode(peer.Config, peer.Recover(), new SeededRandom(seed * 7 + (int)id));
        peer.Applied.Clear();
    }

    public void Isolate(ulong id) => Filters.Add(m => m.From != id && m.To != id);

    public void Partition(params ulong[] side) => Filters.Add(m => side.Contains(m.From) == side.Contains(m.To));

    public void Heal() => Filters.Clear();

    public ulong? Leader()
    {
        ulong? found = null;
        foreach (var (id, peer) in Peers)
        {
            if (!peer.Down && peer.Node.Status().SoftState.Role == Role.Leader)
            {
                if (found is null || peer.Node.Status().HardState.Term > Peers[found.Value].Node.Status().HardState.Term)
                {
                    found = id;
                }
            }
        }

        return found;
    }

    /// <summary>Elects <paramref name="id"/> by campaigning and stabilizing.</summary>
    public void Elect(ulong id)
    {
        this[id].Campaign();
        Stabilize();
        Assert.Equal(Role.Leader, this[id].Status().SoftState.Role);
    }

    public void Tick(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var peer in Peers.Values)
            {
                if (!peer.Down)
                {
                    peer.Node.Tick();
                }
            }

            Stabilize();
        }
    }

    /// <summary>Handles every Ready and delivers every message until nothing moves.</summary>
    public void Stabilize(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var moved = false;
            foreach (var peer in Peers.Values)
            {
                if (!peer.Down && peer.Node.HasReady)
                {
                    HandleReady(peer);
                    moved = true;
                }
            }

            while (inFlight.TryDequeue(out var message))
            {
                moved = true;
                if (Peers.TryGetValue(message.To, out var target) && !target.Down)
                {
                    Delivered.Add(message);
                    target.Node.Step(message);
                }
            }

            if (!moved)
            {
                return;
            }
        }

        throw new InvalidOperationException("cluster did not stabilize");
    }

    public void HandleReady(TestPeer peer)
    {
        var ready = peer.Node.GetReady();
        Send(ready.Messages);
        peer.Persist(ready);
        Send(ready.MessagesAfterPersist);
        foreach (var entry in ready.CommittedEntries)
        {
            peer.Applied.Add(entry);
            peer.AppliedIndex = entry.Index;
        }

        peer.ReadStates.AddRange(ready.ReadStates);
        peer.Node.Advance(ready);
    }

    /// <summary>Handles one node's Ready like a host but returns its messages instead of sending them.</summary>
    public List<Message> TakeOutput(ulong id)
    {
        var peer = Peers[id];
        var output = new List<Message>();
        while (peer.Node.HasReady)
        {
            var ready = peer.Node.GetReady();
            output.AddRange(ready.Messages);
            peer.Persist(ready);
            output.AddRange(ready.MessagesAfterPersist);
            foreach (var entry in ready.CommittedEntries)
            {
                peer.Applied.Add(entry);
                peer.AppliedIndex = entry.Index;
            }

            peer.ReadStates.AddRange(ready.ReadStates);
            peer.Node.Advance(ready);
        }

        return output;
    }

    /// <summary>Queues messages through the filters (tests may also inject messages directly).</summary>
    public void Send(IEnumerable<Message> messages)
    {
        foreach (var message in messages)
        {
            var pass = true;
            foreach (var filter in Filters)
            {
                pass &= filter(message);
            }

            if (pass)
            {
                var sent = message;
                foreach (var transform in Transforms)
                {
                    sent = transform(sent);
                }

                inFlight.Enqueue(sent);
            }
        }
    }

    public ProposeResult Propose(ulong id, string data)
    {
        var result = this[id].Propose(System.Text.Encoding.UTF8.GetBytes(data));
        Stabilize();
        return result;
    }

    public static string Text(Entry entry) => System.Text.Encoding.UTF8.GetString(entry.Data.Span);

    /// <summary>Application data applied by a node (no-ops and config entries left out).</summary>
    public List<string> AppliedData(ulong id) =>
        Peers[id].Applied.Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty).Select(Text).ToList();
}
