using Bulwark.Kv.Auth;
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
    /// <summary>Request ids of compactions count down from here (client calls count up from 1; liveness probes sit near -1,000,000).</summary>
    private const long CompactionRequestBase = -1_000_000_000;

    private readonly SimWorld world;
    private readonly Func<IReadOnlyList<SimNode>> targets;
    private readonly Func<SimNode?> leader;
    private readonly Dictionary<int, SimNode> pinned = [];
    private readonly Action onWriteAcknowledged;
    private readonly Dictionary<int, long> lastRevision = [];
    private long compactions;
    private readonly DeterministicRandom random;
    private readonly long timeout;
    private readonly Dictionary<string, string?> lastSeen = new(StringComparer.Ordinal);
    private readonly bool auth;
    private int writes;
    private int active;

    /// <param name="leader">The node that believes itself leader in the highest term, if any (sticky clients pin to it).</param>
    /// <param name="onWriteAcknowledged">Called the moment a write is acknowledged (before the client hears of it).</param>
    /// <param name="auth">Auth runs: calls are made as <see cref="AuthAdmin.User"/>, and a share target forbidden keys.</param>
    public Workload(SimWorld world, SimHistory history, Func<IReadOnlyList<SimNode>> targets, Func<SimNode?> leader, long timeout,
        Action? onWriteAcknowledged = null, bool auth = false)
    {
        this.auth = auth;
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

    /// <summary>Auth runs: the user's calls answered ok (reads served, writes applied).</summary>
    public int AuthAllowed { get; private set; }

    /// <summary>Auth runs: the user's calls on keys it has no permission for, refused (as they must be).</summary>
    public int AuthDenied { get; private set; }

    /// <summary>Auth runs: the user's calls on its own keys refused (while the permission was revoked, or stale too often).</summary>
    public int AuthDeniedOwnKeys { get; private set; }

    /// <summary>Auth runs: root's reads of the forbidden keys answered (they must never see a value).</summary>
    public int AuditReads { get; private set; }

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

    /// <summary>
    /// The next call of <paramref name="client"/>. Single-key calls (get 30 %, put 22 %, compare-and-set 25 %, delete
    /// 8 %) are one operation each in the history; a multi-key read (8 %: a read-only Txn of several ranges, or one
    /// prefix range) and a multi-key write (5 %: one Txn of a put and a put or delete on another key) are recorded as
    /// one operation per key with the same call and return (their projections: a multi-key call that is linearizable
    /// is linearizable on each key); 2 % are compactions at a revision the chosen node has applied, which no client
    /// waits for and the history does not record.
    /// </summary>
    private void Next(int client)
    {
        if (Stopped)
        {
            return;
        }

        var key = $"{SimCommandTranslation.KeyPrefix}{random.Next(world.Plan.Keys)}";
        var roll = random.Next(100);
        var inputs = new List<KvInput>();
        var asTxn = false;
        var compaction = false;
        if (roll < 30)
        {
            inputs.Add(KvInput.Get(key));
        }
        else if (roll < 38)
        {
            // Every key (the prefix range) or a random subset of at least one (the read-only Txn).
            asTxn = random.Chance(0.5);
            for (var k = 0; k < world.Plan.Keys; k++)
            {
                if (!asTxn || random.Chance(0.6) || (k == world.Plan.Keys - 1 && inputs.Count == 0))
                {
                    inputs.Add(KvInput.Get($"{SimCommandTranslation.KeyPrefix}{k}"));
                }
            }
        }
        else if (roll < 60)
        {
            inputs.Add(KvInput.Put(key, $"c{client}w{++writes}"));
        }
        else if (roll < 68)
        {
            inputs.Add(KvInput.Delete(key));
        }
        else if (roll < 73)
        {
            inputs.Add(KvInput.Put(key, $"c{client}w{++writes}"));
            var other = $"{SimCommandTranslation.KeyPrefix}{random.Next(world.Plan.Keys)}";
            if (other != key)
            {
                inputs.Add(random.Chance(0.5) ? KvInput.Put(other, $"c{client}w{++writes}") : KvInput.Delete(other));
            }
        }
        else if (roll < 75)
        {
            compaction = true;
        }
        else
        {
            lastSeen.TryGetValue(key, out var expected);
            inputs.Add(KvInput.CompareAndSet(key, random.Chance(0.8) ? expected : "nope", $"c{client}w{++writes}"));
        }

        // Auth runs: every call as the user; a fifth reach for a key it may not touch (a single-key call moved there, or
        // a multi-key write whose second key is one: the whole Txn must be refused), and half the single-key reads of
        // those keys are root's audit reads, which must always find them absent.
        string? user = null;
        var mustBeRefused = false;
        if (auth && !compaction)
        {
            user = AuthAdmin.User;
            if (random.Chance(0.2) && (inputs.Count == 1 || inputs[0].Kind != KvOperationKind.Get))
            {
                var forbidden = $"{AuthAdmin.ForbiddenPrefix}{random.Next(AuthAdmin.ForbiddenKeys)}";
                inputs[^1] = inputs[^1] with { Key = forbidden };
                if (inputs[0].Kind == KvOperationKind.Get && random.Chance(0.5))
                {
                    user = AuthStore.RootUser;
                }
                else
                {
                    mustBeRefused = true;
                }
            }
        }

        var nodes = targets();
        var node = world.Plan.LeaderClients && leader() is { IsUp: true, IsRetired: false } current ? current
            : world.Plan.StickyClients && client % 2 == 1 ? Pinned(client, nodes)
            : random.Pick(nodes);
        if (compaction)
        {
            var request = (ulong)(CompactionRequestBase - ++compactions);
            world.Scheduler.After(random.Between(100, 2_000), () => node.SubmitCompaction(request, auth ? AuthAdmin.User : null));
            world.Scheduler.After(random.Between(1_000, 30_000), () => Next(client));
            return;
        }

        var isRead = inputs[0].Kind == KvOperationKind.Get;
        var ids = inputs.Select(input => History.Invoke(client, input)).ToList();
        foreach (var alias in ids.Skip(1))
        {
            world.RecordAlias(alias, ids[0]);
        }

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
            if (reply.Kind == ClientReplyKind.Ok && !isRead)
            {
                onWriteAcknowledged();
            }

            Reply(reply);
        }

        void Reply(ClientReply reply) =>
            world.Scheduler.After(random.Between(100, 2_000), () => Finish(() =>
            {
                if (reply.AuthError is not null)
                {
                    if (mustBeRefused)
                    {
                        AuthDenied++;
                    }
                    else
                    {
                        AuthDeniedOwnKeys++;
                    }
                }
                else if (reply.Kind == ClientReplyKind.Ok && mustBeRefused)
                {
                    world.Monitor.Fail($"auth: {string.Join(" + ", inputs)} as {user}, who has no permission on {inputs[^1].Key}, was answered ok");
                }
                else if (reply.Kind == ClientReplyKind.Ok && user == AuthAdmin.User)
                {
                    AuthAllowed++;
                }
                else if (reply.Kind == ClientReplyKind.Ok && user is not null)
                {
                    AuditReads++;
                }

                if (reply.Kind != ClientReplyKind.Ok)
                {
                    // Refused (by the host, or by auth at the API or when the command applied): certainly no effect,
                    // so not in the history; a write refused there that did take effect shows up as a read of a
                    // value no recorded write made, which the checker rejects.
                    foreach (var id in ids)
                    {
                        History.Discard(id);
                    }

                    pinned.Remove(client); // refused or down: choose again next time
                    return;
                }

                // Every call of one client starts after its previous call returned, so a linearizable store answers it
                // at the same or a later revision.
                if (lastRevision.TryGetValue(client, out var previous) && reply.Revision < previous)
                {
                    world.Monitor.Fail($"revisions: client {client} was answered at revision {reply.Revision} after an earlier call of it was answered at {previous}");
                }

                lastRevision[client] = Math.Max(previous, reply.Revision);
                for (var i = 0; i < ids.Count; i++)
                {
                    var input = inputs[i];
                    var output = isRead ? (reply.Outputs.Count > 0 ? reply.Outputs[i] : reply.Output!) : reply.Output!;
                    History.Complete(ids[i], output);
                    if (input.Kind == KvOperationKind.Get)
                    {
                        lastSeen[input.Key] = output.Value;
                    }
                    else if (input.Kind is KvOperationKind.Put or KvOperationKind.Delete || output.Succeeded)
                    {
                        lastSeen[input.Key] = input.Value;
                    }
                }
            }));

        world.Scheduler.After(random.Between(100, 2_000), () =>
        {
            if (isRead)
            {
                node.SubmitRead(ids[0], [.. inputs.Select(input => input.Key)], asTxn, OnReply, user);
            }
            else
            {
                node.SubmitWrite(new SimCommand(ids[0], inputs[0]) { Others = inputs.Skip(1).ToList(), User = user }, OnReply);
            }
        });

        var giveUpAfter = isRead && world.Plan.ReadTimeout > 0 ? world.Plan.ReadTimeout : timeout;
        world.Scheduler.After(giveUpAfter, () => Finish(() =>
        {
            foreach (var id in ids)
            {
                // A read that never answered constrains nothing; a write may still take effect.
                if (isRead)
                {
                    History.Discard(id);
                }
                else
                {
                    History.GiveUp(id);
                }
            }
        }));
    }
}
