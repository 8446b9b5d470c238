using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>How the network misbehaves at the moment. Latencies are in microseconds.</summary>
public sealed record NetworkConditions(double DropRate, double DuplicateRate, double DelaySpikeRate, long MinLatency, long MaxLatency)
{
    /// <summary>Every message arrives once, in 0.5–2 ms (order may still vary a little).</summary>
    public static NetworkConditions Reliable { get; } = new(0, 0, 0, 500, 2_000);
}

/// <summary>
/// The simulated network between nodes: each message is delayed by a random latency (which reorders them),
/// may be dropped or duplicated, and never crosses a cut link. Cuts are one-way, so partitions can be
/// asymmetric; a message in flight when its link is cut is lost.
/// </summary>
public sealed class SimNetwork(EventScheduler scheduler, DeterministicRandom random, TraceHash trace, Func<Message, bool> deliver)
{
    /// <summary>
    /// Called when a message could not reach its target because the link is cut or the target is down — what a
    /// real transport notices as a failed connection (a silently dropped message goes unnoticed).
    /// </summary>
    public Action<Message>? Undeliverable { get; set; }

    private readonly HashSet<(ulong From, ulong To)> cut = [];

    public NetworkConditions Conditions { get; set; } = NetworkConditions.Reliable;

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public long Duplicated { get; private set; }

    public bool IsCut(ulong from, ulong to) => cut.Contains((from, to));

    public bool HasCuts => cut.Count > 0;

    public void Send(Message message)
    {
        Sent++;
        var conditions = Conditions;
        if (IsCut(message.From, message.To))
        {
            Dropped++;
            Undeliverable?.Invoke(message);
            return;
        }

        if (random.Chance(conditions.DropRate))
        {
            Dropped++;
            if (message.Type == MessageType.Snapshot)
            {
                // A snapshot is a long stream on its own connection: losing it means that connection failed, which the
                // sending transport always notices and reports (PeerSender's SnapshotFailed), unlike a lost small message.
                Undeliverable?.Invoke(message);
            }

            return;
        }

        Schedule(message, conditions);
        // Never a forwarded proposal: the real transport (TCP) never delivers a message twice, and the shipped store
        // applies what the log holds, so a proposal duplicated here would be applied twice, a bug of the simulation.
        if (message.Type != MessageType.Propose && random.Chance(conditions.DuplicateRate))
        {
            Duplicated++;
            Schedule(message, conditions);
        }
    }

    /// <summary>Cuts the link from <paramref name="from"/> to <paramref name="to"/> (one direction only).</summary>
    public void CutOneWay(ulong from, ulong to) => cut.Add((from, to));

    /// <summary>No message passes between the two groups in either direction.</summary>
    public void Split(IEnumerable<ulong> side, IEnumerable<ulong> otherSide)
    {
        var others = otherSide.ToList();
        foreach (var a in side)
        {
            foreach (var b in others)
            {
                cut.Add((a, b));
                cut.Add((b, a));
            }
        }
    }

    public void HealAll() => cut.Clear();

    private void Schedule(Message message, NetworkConditions conditions)
    {
        var latency = random.Between(conditions.MinLatency, conditions.MaxLatency);
        if (random.Chance(conditions.DelaySpikeRate))
        {
            latency *= 10;
        }

        scheduler.After(latency, () =>
        {
            if (IsCut(message.From, message.To))
            {
                Dropped++;
                Undeliverable?.Invoke(message);
                return;
            }

            trace.Add(scheduler.Now);
            trace.Add((long)message.Type);
            trace.Add((long)message.From);
            trace.Add((long)message.To);
            trace.Add((long)message.Term);
            trace.Add((long)message.Index);
            if (!deliver(message))
            {
                Dropped++;
                Undeliverable?.Invoke(message);
            }
        });
    }
}
