namespace Bulwark.Consensus.Membership;

/// <summary>
/// Single-server membership changes (dissertation ch. 4): which changes make sense for a configuration,
/// and the configuration that results. Pure functions so every node computes the same result from the log.
/// </summary>
/// <remarks>
/// Public so that the host applies committed changes to its own view of the membership by the very rule the
/// core uses: a copy of the rule can diverge from it (it once put a voter re-added as a learner in both sets).
/// </remarks>
public static class MembershipRules
{
    /// <summary>Null if <paramref name="change"/> is valid for <paramref name="config"/>, else why not.</summary>
    public static string? Validate(ClusterConfig config, ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(change);
        if (change.NodeId == 0)
        {
            return "node id 0 is reserved";
        }

        if (config.IsJoint)
        {
            return "joint configurations are not supported by single-server changes";
        }

        var id = change.NodeId;
        return change.Type switch
        {
            ConfigChangeType.AddVoter when config.Voters.Contains(id) => $"node {id:x} is already a voter",
            ConfigChangeType.AddVoter when config.Learners.Contains(id) => $"node {id:x} is a learner; promote it instead",
            ConfigChangeType.AddLearner when config.Voters.Contains(id) => $"node {id:x} is already a voter",
            ConfigChangeType.AddLearner when config.Learners.Contains(id) => $"node {id:x} is already a learner",
            ConfigChangeType.PromoteLearner when !config.Learners.Contains(id) => $"node {id:x} is not a learner",
            ConfigChangeType.RemoveVoter when !config.Voters.Contains(id) && !config.Learners.Contains(id) =>
                $"node {id:x} is not a member",
            ConfigChangeType.RemoveVoter when config.Voters.Contains(id) && config.Voters.Count == 1 =>
                $"node {id:x} is the last voter",
            _ => null,
        };
    }

    /// <summary>
    /// The configuration after <paramref name="change"/>, as the core computes it for every committed (or
    /// appended) configuration entry. Applied leniently: the leader validated the change against the same
    /// configuration before appending it, so every node reaches the same result; a change that makes no sense
    /// for <paramref name="config"/> (a voter added as a learner, a non-member removed) leaves it unchanged, and
    /// no id is ever both a voter and a learner.
    /// </summary>
    public static ClusterConfig Apply(ClusterConfig config, ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(change);
        var id = change.NodeId;
        return change.Type switch
        {
            ConfigChangeType.AddVoter or ConfigChangeType.PromoteLearner =>
                config with { Voters = config.Voters.Add(id), Learners = config.Learners.Remove(id) },
            ConfigChangeType.AddLearner when !config.Voters.Contains(id) =>
                config with { Learners = config.Learners.Add(id) },
            ConfigChangeType.RemoveVoter =>
                config with { Voters = config.Voters.Remove(id), Learners = config.Learners.Remove(id) },
            _ => config,
        };
    }
}
