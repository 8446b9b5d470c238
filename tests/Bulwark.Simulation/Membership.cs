using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// How a configuration entry changes the membership (single-server changes). The host needs this to label its
/// snapshots with the membership as of their index.
/// </summary>
public static class Membership
{
    public static ClusterConfig Apply(ClusterConfig config, ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(change);
        var id = change.NodeId;
        return change.Type switch
        {
            ConfigChangeType.AddVoter or ConfigChangeType.PromoteLearner =>
                config with { Voters = config.Voters.Add(id), Learners = config.Learners.Remove(id) },
            ConfigChangeType.AddLearner when !config.Voters.Contains(id) => config with { Learners = config.Learners.Add(id) },
            ConfigChangeType.RemoveVoter => config with { Voters = config.Voters.Remove(id), Learners = config.Learners.Remove(id) },
            _ => config,
        };
    }
}
