using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// Drives membership changes during faults, one at a time through the current leader: add a learner (or a voter)
/// on a fresh node, promote learners, and remove voters (possibly the leader) while the cluster is larger than its
/// nominal size. Removed node ids are never reused.
/// </summary>
public sealed class MembershipDriver(
    SimWorld world,
    DeterministicRandom random,
    int nominalSize,
    Func<SimNode?> findLeader,
    Func<ulong, SimNode> addNode)
{
    private const int MaxExtraNodes = 4;
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
            change = new ConfigChange(ConfigChangeType.RemoveVoter, random.Pick(config.Voters.ToList()));
        }
        else if (spare is not null || nextId <= (ulong)(nominalSize + MaxExtraNodes))
        {
            var id = spare ?? nextId++;
            spare = id;
            addNode(id);
            change = new ConfigChange(random.Chance(0.6) ? ConfigChangeType.AddLearner : ConfigChangeType.AddVoter, id);
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
