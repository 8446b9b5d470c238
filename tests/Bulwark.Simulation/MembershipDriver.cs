using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// Drives membership changes during faults, one at a time through the current leader: add a learner (or a voter)
/// on a fresh node, promote learners, and remove voters (possibly the leader; <see cref="FaultPlan.LeaderRemovalBias"/>
/// makes it likely) while the cluster is larger than its nominal size. Removed node ids are never reused.
/// </summary>
public sealed class MembershipDriver(
    SimWorld world,
    DeterministicRandom random,
    int nominalSize,
    Func<SimNode?> findLeader,
    Func<ulong, SimNode> addNode)
{
    private ulong nextId = (ulong)nominalSize + 1;
    private ulong? spare;

    public void Step()
    {
        var leader = findLeader();
        var status = leader?.Status();
        if (leader is null || status is null)
        {
            return;
        }

        var config = status.Config;
        ConfigChange change;
        if (!config.Learners.IsEmpty)
        {
            change = new ConfigChange(ConfigChangeType.PromoteLearner, config.Learners.Min);
        }
        else if (config.Voters.Count > nominalSize)
        {
            // The bias is drawn only when set, so the random stream of profiles without it is what it always was.
            var removeLeader = world.Plan.LeaderRemovalBias > 0 && config.Voters.Contains(leader.Id) && random.Chance(world.Plan.LeaderRemovalBias);
            change = new ConfigChange(ConfigChangeType.RemoveVoter, removeLeader ? leader.Id : random.Pick(config.Voters.ToList()));
        }
        else if (spare is not null || nextId <= (ulong)(nominalSize + world.Plan.MaxJoiningNodes))
        {
            var id = spare ?? nextId++;
            spare = id;
            addNode(id);
            change = new ConfigChange(random.Chance(world.Plan.LearnerChance) ? ConfigChangeType.AddLearner : ConfigChangeType.AddVoter, id);
        }
        else
        {
            return;
        }

        var result = leader.ProposeConfigChange(change);
        world.Trace(leader.Id, $"config-{change.Type}", (long)change.NodeId, (long)result.Status);
        if (result.IsAccepted && spare == change.NodeId)
        {
            spare = null;
        }
    }
}
