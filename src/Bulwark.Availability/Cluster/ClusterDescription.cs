namespace Bulwark.Availability.Cluster;

/// <summary>
/// A replicated cluster to model. All times are in hours and all rates per hour.
/// </summary>
/// <param name="Nodes">Number of nodes n (≥ 1).</param>
/// <param name="FailureRate">Per-node failure rate λ (per hour, &gt; 0); 1/λ is the node's MTBF.</param>
/// <param name="RepairRate">Per-node repair rate μ (per hour, &gt; 0); 1/μ is the node's MTTR.</param>
/// <param name="Quorum">Nodes that must be up for the cluster to serve, k (1..n). Null means a majority, ⌊n/2⌋ + 1.</param>
/// <param name="RepairCrews">How many failed nodes can be repaired at once. Null means independent repair (every failed
/// node is repaired in parallel); 1 is one shared repair crew.</param>
/// <param name="Failover">Optional failover-in-progress model for leader failures.</param>
/// <param name="CommonCauseBeta">β-factor for common-cause failures, in [0, 1): the fraction β of each node's failure rate
/// is a shock at rate βλ that fails every up node at once. 0 means independent failures only.</param>
public sealed record ClusterDescription(
    int Nodes,
    double FailureRate,
    double RepairRate,
    int? Quorum = null,
    int? RepairCrews = null,
    FailoverModel? Failover = null,
    double CommonCauseBeta = 0)
{
    /// <summary>The quorum size k actually used.</summary>
    public int QuorumSize => Quorum ?? (Nodes / 2) + 1;

    /// <summary>Repair crews actually used (n for independent repair).</summary>
    public int Crews => RepairCrews ?? Nodes;

    /// <summary>Throws <see cref="AvailabilityInputException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Nodes < 1)
        {
            throw new AvailabilityInputException("nodes", $"nodes is {Nodes}; a cluster needs at least 1 node");
        }

        if (Nodes > 64)
        {
            throw new AvailabilityInputException("nodes", $"nodes is {Nodes}; models are limited to 64 nodes");
        }

        if (!double.IsFinite(FailureRate) || FailureRate <= 0)
        {
            throw new AvailabilityInputException("failureRate", $"failureRate (λ, per hour) is {FailureRate}; it must be a finite number > 0");
        }

        if (!double.IsFinite(RepairRate) || RepairRate <= 0)
        {
            throw new AvailabilityInputException("repairRate", $"repairRate (μ, per hour) is {RepairRate}; it must be a finite number > 0");
        }

        if (Quorum is { } k && (k < 1 || k > Nodes))
        {
            throw new AvailabilityInputException("quorum", $"quorum is {k}; it must be between 1 and the number of nodes ({Nodes})");
        }

        if (RepairCrews is { } c && c < 1)
        {
            throw new AvailabilityInputException("repairCrews", $"repairCrews is {c}; it must be at least 1 (or unset for independent repair)");
        }

        if (!double.IsFinite(CommonCauseBeta) || CommonCauseBeta < 0 || CommonCauseBeta >= 1)
        {
            throw new AvailabilityInputException("beta", $"beta (common-cause fraction) is {CommonCauseBeta}; it must be in [0, 1)");
        }

        Failover?.Validate();
    }
}
