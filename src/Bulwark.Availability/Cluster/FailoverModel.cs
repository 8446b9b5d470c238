namespace Bulwark.Availability.Cluster;

/// <summary>
/// What a leader failure costs. When the node that fails is the leader (one of the u up nodes, so a fraction 1/u of
/// independent failures) and a quorum survives, the cluster cannot serve until a new leader takes over.
/// </summary>
/// <param name="MeanDurationHours">Mean time d the failover takes (exponentially distributed), ≥ 0. 0 means instant.</param>
/// <param name="Coverage">Probability c that the failover succeeds on its own; with probability 1 − c it does not
/// (an uncovered failure) and the cluster stays down until a failed node is repaired.</param>
public sealed record FailoverModel(double MeanDurationHours, double Coverage = 1)
{
    public void Validate()
    {
        if (!double.IsFinite(MeanDurationHours) || MeanDurationHours < 0)
        {
            throw new AvailabilityInputException("failoverDuration", $"failover duration is {MeanDurationHours} h; it must be a finite number ≥ 0");
        }

        if (!double.IsFinite(Coverage) || Coverage < 0 || Coverage > 1)
        {
            throw new AvailabilityInputException("coverage", $"coverage is {Coverage}; it must be in [0, 1]");
        }
    }
}
