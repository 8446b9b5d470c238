using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Google.Protobuf;

namespace Bulwark.Simulation;

/// <summary>
/// Clients that hold leases as a service-discovery or election client does: grant a lease (its own id), put a key
/// with it, keep it alive every third of its TTL and read the key back now and then; some clients revoke their lease
/// when done, others abandon it (stop keeping it alive) and start a new one, so expiry happens during the faults.
/// A client talks to one node and moves on (preferring the leader) when that node cannot answer: keep-alives are the
/// leader's. Every promise and read goes to the <see cref="LeaseLedger"/>, which checks them against the revocations.
/// </summary>
public sealed class LeaseWorkload
{
    /// <summary>Request ids of lease calls: far above the KV workload's ids and below nothing else.</summary>
    private const long RequestBase = 2_000_000_000_000;

    private readonly SimWorld world;
    private readonly Func<IReadOnlyList<SimNode>> targets;
    private readonly Func<SimNode?> leader;
    private readonly DeterministicRandom random;
    private readonly Dictionary<int, SimNode> pinned = [];
    private readonly HashSet<long> granted = [];
    private long requests;
    private int active;

    public LeaseWorkload(SimWorld world, DeterministicRandom random, Func<IReadOnlyList<SimNode>> targets, Func<SimNode?> leader)
    {
        this.world = world;
        this.random = random;
        this.targets = targets;
        this.leader = leader;
    }

    public bool Stopped { get; set; }

    /// <summary>Calls still in flight.</summary>
    public int Active => active;

    /// <summary>Leases a grant was sent for (acknowledged or not: an unanswered grant may still have taken effect).</summary>
    public IReadOnlyCollection<long> Granted => granted;

    public int Clients { get; init; } = 3;

    public void Start()
    {
        for (var client = 1; client <= Clients; client++)
        {
            var c = client;
            world.Scheduler.After(random.Between(0, 50_000), () => Begin(c, 1));
        }
    }

    /// <summary>Lease number <paramref name="round"/> of <paramref name="client"/>: grant, attach, keep alive.</summary>
    private void Begin(int client, int round)
    {
        if (Stopped)
        {
            return;
        }

        var id = client * 1_000 + round;
        var ttl = random.Between(1, 2);
        var rounds = (int)random.Between(3, 12); // keep-alives before the client lets go
        var grant = new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = id, TTL = ttl } };
        granted.Add(id);
        var sentAt = world.Scheduler.Now;
        Call<ApplyResult>(client, (node, reply) => node.SubmitLeaseWrite(NextRequest(), grant, reply), result =>
        {
            if (result is not { Succeeded: true })
            {
                // Refused, lost, or "lease already exists" (an earlier unanswered attempt took effect): start anew.
                After(client, () => Begin(client, round + 1));
                return;
            }

            world.Leases.Promised(id, sentAt, ttl);
            var put = new RaftCommand
            {
                Put = new PutRequest { Key = ByteString.CopyFromUtf8(LeaseLedger.KeyOf(id)), Value = ByteString.CopyFromUtf8($"c{client}"), Lease = id },
            };
            Call<ApplyResult>(client, (node, reply) => node.SubmitLeaseWrite(NextRequest(), put, reply), attached =>
            {
                if (attached is { Succeeded: true })
                {
                    world.Leases.Attached(id, attached.Revision);
                }

                KeepAlive(client, round, id, ttl, rounds);
            });
        });
    }

    private void KeepAlive(int client, int round, long id, long ttl, int left)
    {
        if (Stopped)
        {
            return;
        }

        if (left == 0)
        {
            if (random.Chance(0.5))
            {
                // Done with it: revoke (the keys go at once) and start a new lease.
                var revoke = new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = id } };
                Call<ApplyResult>(client, (node, reply) => node.SubmitLeaseWrite(NextRequest(), revoke, reply), _ => After(client, () => Begin(client, round + 1)));
            }
            else
            {
                // Abandoned: the cluster must expire it (and must not before its last promise ran out).
                After(client, () => Begin(client, round + 1));
            }

            return;
        }

        // Every third of the TTL, as etcd's clients send keep-alives, with some jitter.
        var period = ttl * 1_000_000 / 3;
        world.Scheduler.After(random.Between(period / 2, period), () =>
        {
            if (Stopped)
            {
                return;
            }

            var sentAt = world.Scheduler.Now;
            Call<long?>(client, (node, reply) => node.SubmitKeepAlive(NextRequest(), id, reply), answer =>
            {
                if (answer is > 0)
                {
                    world.Leases.Promised(id, sentAt, answer.Value);
                }

                if (answer == 0)
                {
                    // The lease is gone (it expired while the client could not reach the leader): start anew.
                    After(client, () => Begin(client, round + 1));
                    return;
                }

                if (random.Chance(0.3))
                {
                    Call<(bool Present, long Revision)?>(client, (node, reply) => node.SubmitKeyRead(NextRequest(), LeaseLedger.KeyOf(id), reply), read =>
                    {
                        if (read is { } seen)
                        {
                            world.Leases.Read(id, seen.Present, seen.Revision);
                        }
                    });
                }

                KeepAlive(client, round, id, ttl, left - 1);
            });
        });
    }

    /// <summary>
    /// One call of <paramref name="client"/> to its node; a call refused or unanswered within the client's timeout
    /// (unknown outcome) repins the client and hands <paramref name="done"/> a null.
    /// </summary>
    private void Call<T>(int client, Action<SimNode, Action<T?>> submit, Action<T?> done)
    {
        var nodes = targets();
        if (nodes.Count == 0)
        {
            After(client, () => done(default));
            return;
        }

        if (!pinned.TryGetValue(client, out var node) || !node.IsUp || node.IsRetired)
        {
            node = leader() is { IsUp: true, IsRetired: false } current && random.Chance(0.8) ? current : random.Pick(nodes);
            pinned[client] = node;
        }

        active++;
        var finished = false;
        void Finish(T? answer)
        {
            if (finished)
            {
                return;
            }

            finished = true;
            active--;
            if (answer is null)
            {
                pinned.Remove(client);
            }

            done(answer);
        }

        var target = node;
        world.Scheduler.After(random.Between(100, 2_000), () => submit(target, answer => world.Scheduler.After(random.Between(100, 2_000), () => Finish(answer))));
        world.Scheduler.After(300_000, () => Finish(default));
    }

    private void After(int client, Action next) => world.Scheduler.After(random.Between(5_000, 50_000), next);

    private long NextRequest() => RequestBase + ++requests;
}
