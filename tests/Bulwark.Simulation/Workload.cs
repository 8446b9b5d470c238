using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// Clients issuing reads, writes and compare-and-sets on a small key space, one call at a time each, against a
/// random node. A refused call (no leader, node down) certainly had no effect and is retried elsewhere as a new
/// operation; a call that times out has unknown outcome. Every value written is unique, so a read identifies
/// the write it saw.
/// </summary>
public sealed class Workload
{
    private readonly SimWorld world;
    private readonly Func<IReadOnlyList<SimNode>> targets;
    private readonly Func<SimNode?> leader;
    private readonly Dictionary<int, SimNode> pinned = [];
    private readonly Action onWriteAcknowledged;
    private readonly DeterministicRandom random;
    private readonly long timeout;
    private readonly Dictionary<string, string?> lastSeen = new(StringComparer.Ordinal);
    private int writes;
    private int active;

    /// <param name="leader">The node that believes itself leader in the highest term, if any (sticky clients pin to it).</param>
    /// <param name="onWriteAcknowledged">Called the moment a write is acknowledged (before the client hears of it).</param>
    public Workload(SimWorld world, SimHistory history, Func<IReadOnlyList<SimNode>> targets, Func<SimNode?> leader, long timeout,
        Action? onWriteAcknowledged = null)
    {
        this.onWriteAcknowledged = onWriteAcknowledged ?? (() => { });
        this.world = world;
        History = history;
        this.targets = targets;
        this.leader = leader;
        this.timeout = timeout;
        random = world.Random.Fork(2);
    }

    public SimHistory History { get; }

    public bool Stopped { get; set; }

    /// <summary>Calls still in flight.</summary>
    public int Active => active;

    public void Start()
    {
        for (var client = 1; client <= world.Plan.Clients; client++)
        {
            var c = client;
            world.Scheduler.After(random.Between(0, 20_000), () => Next(c));
        }
    }

    /// <summary>The node this client keeps calling; a new pick prefers the current leader.</summary>
    private SimNode Pinned(int client, IReadOnlyList<SimNode> nodes)
    {
        if (pinned.TryGetValue(client, out var node) && node.IsUp && !node.IsRetired)
        {
            return node;
        }

        node = leader() is { IsUp: true, IsRetired: false } current ? current : random.Pick(nodes);
        pinned[client] = node;
        return node;
    }

    private void Next(int client)
    {
        if (Stopped)
        {
            return;
        }

        var key = $"k{random.Next(world.Plan.Keys)}";
        var roll = random.Next(100);
        KvInput input;
        if (roll < 40)
        {
            input = KvInput.Get(key);
        }
        else if (roll < 75)
        {
            input = KvInput.Put(key, $"c{client}w{++writes}");
        }
        else
        {
            lastSeen.TryGetValue(key, out var expected);
            input = KvInput.CompareAndSet(key, random.Chance(0.8) ? expected : "nope", $"c{client}w{++writes}");
        }

        var nodes = targets();
        var node = world.Plan.LeaderClients && leader() is { IsUp: true, IsRetired: false } current ? current
            : world.Plan.StickyClients && client % 2 == 1 ? Pinned(client, nodes)
            : random.Pick(nodes);
        var id = History.Invoke(client, input);
        active++;
        var finished = false;

        void Finish(Action record)
        {
            if (finished)
            {
                return;
            }

            finished = true;
            active--;
            record();
            world.Scheduler.After(random.Between(1_000, 30_000), () => Next(client));
        }

        void OnReply(ClientReply reply)
        {
            if (reply.Kind == ClientReplyKind.Ok && input.Kind != KvOperationKind.Get)
            {
                onWriteAcknowledged();
            }

            Reply(reply);
        }

        void Reply(ClientReply reply) =>
            world.Scheduler.After(random.Between(100, 2_000), () => Finish(() =>
            {
                if (reply.Kind == ClientReplyKind.Ok)
                {
                    History.Complete(id, reply.Output!);
                    if (input.Kind == KvOperationKind.Get)
                    {
                        lastSeen[key] = reply.Output!.Value;
                    }
                    else if (input.Kind == KvOperationKind.Put || reply.Output!.Succeeded)
                    {
                        lastSeen[key] = input.Value;
                    }
                }
                else
                {
                    History.Discard(id);
                    pinned.Remove(client); // refused or down: choose again next time
                }
            }));

        world.Scheduler.After(random.Between(100, 2_000), () =>
        {
            if (input.Kind == KvOperationKind.Get)
            {
                node.SubmitRead(id, key, OnReply);
            }
            else
            {
                node.SubmitWrite(new SimCommand(id, input), OnReply);
            }
        });

        var giveUpAfter = input.Kind == KvOperationKind.Get && world.Plan.ReadTimeout > 0 ? world.Plan.ReadTimeout : timeout;
        world.Scheduler.After(giveUpAfter, () => Finish(() =>
        {
            // A read that never answered constrains nothing; a write may still take effect.
            if (input.Kind == KvOperationKind.Get)
            {
                History.Discard(id);
            }
            else
            {
                History.GiveUp(id);
            }
        }));
    }
}
