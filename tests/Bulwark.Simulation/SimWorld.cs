using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>The services every sim node shares: virtual time, randomness, the network, the checkers, the trace.</summary>
public sealed class SimWorld
{
    private readonly List<string>? traceLines;
    private readonly Dictionary<long, ulong> appliedAt = [];
    private readonly Dictionary<long, long> aliases = [];

    public SimWorld(ulong seed, FaultPlan plan, Sabotage sabotage, bool keepTrace, Func<Message, bool> deliver, ClusterConfig founding)
    {
        Random = new DeterministicRandom(seed);
        Plan = plan;
        Sabotage = sabotage;
        traceLines = keepTrace ? [] : null;
        Network = new SimNetwork(Scheduler, Random.Fork(1), Hash, deliver);
        Monitor = new SafetyMonitor(() => Scheduler.Now);
        Leases = new LeaseLedger(Monitor, () => Scheduler.Now);
        Founding = founding;
        Membership = new MembershipLedger(Monitor, founding);
    }

    /// <summary>The membership every node bootstraps from (at index 0).</summary>
    public ClusterConfig Founding { get; }

    /// <summary>The committed membership, checked against what members apply and install, and what the run exercised.</summary>
    public MembershipLedger Membership { get; }

    public EventScheduler Scheduler { get; } = new();

    public DeterministicRandom Random { get; }

    public TraceHash Hash { get; } = new();

    public SimNetwork Network { get; }

    public SafetyMonitor Monitor { get; }

    /// <summary>The lease clients' promises and the cluster's revocations, checked against each other.</summary>
    public LeaseLedger Leases { get; }

    public FaultPlan Plan { get; }

    public Sabotage Sabotage { get; }

    /// <summary>The hosts run gray-failure handling (<see cref="SimulationOptions.GrayFailure"/>).</summary>
    public bool GrayFailure { get; init; }

    /// <summary>With <see cref="GrayFailure"/>: the "alive but not committing" reports (<see cref="SimulationOptions.NoProgressReports"/>).</summary>
    public bool NoProgressReports { get; init; } = true;

    public IReadOnlyList<string> TraceLines => traceLines ?? [];

    /// <summary>Called when a node applies a configuration (entry or snapshot) at an index.</summary>
    public event Action<ulong, ulong, ClusterConfig>? ConfigApplied;

    public void OnConfigApplied(ulong node, ulong index, ClusterConfig config) => ConfigApplied?.Invoke(node, index, config);

    /// <summary>A node applied the client write with this request id at this log index (the safety monitor checks every
    /// other node applies the same entry there). A write whose command auth refused as stale is proposed again under
    /// the same id: the later entry, the one that took effect, is the one that counts.</summary>
    public void RecordApplied(long requestId, ulong index) =>
        appliedAt[requestId] = Math.Max(appliedAt.GetValueOrDefault(requestId), index);

    /// <summary>The log index at which the write with this request id was applied, if any node applied it.</summary>
    public ulong? AppliedAt(long requestId) =>
        appliedAt.TryGetValue(aliases.GetValueOrDefault(requestId, requestId), out var index) ? index : null;

    /// <summary>History operation <paramref name="operation"/> is a projection of the write proposed as <paramref name="requestId"/>.</summary>
    public void RecordAlias(long operation, long requestId) => aliases[operation] = requestId;

    /// <summary>Records a delivered message in the readable trace (the hash already covers deliveries).</summary>
    public void TraceDelivery(Message message) => traceLines?.Add($"{Scheduler.Now / 1000.0,10:F3}ms    {message}");

    public void Trace(ulong node, string what, long a, long b)
    {
        Hash.Add(Scheduler.Now);
        Hash.Add((long)node);
        Hash.Add(what.Length);
        Hash.Add(a);
        Hash.Add(b);
        traceLines?.Add($"{Scheduler.Now / 1000.0,10:F3}ms n{node} {what} {a} {b}");
    }
}
