using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Runs that found a problem in the consensus core, kept as regression tests. Each names its seed and the diagnosis;
/// each failed before its fix in the core (docs/simulation.md lists them).
/// </summary>
public sealed class KnownCoreIssuesTests
{
    /// <summary>
    /// Seed 110510, 3 nodes: node 3 is cut off while the membership changes around it (1 and 2 removed, 4 and 6
    /// added); it campaigns up to term 33 with its stale membership, so its vote requests go only to the retired
    /// nodes 1 and 2. After healing, leader 4 (term 7) sends it heartbeats and probes, which node 3 drops as stale
    /// without answering with its higher term (Raft's "reply false with currentTerm"; etcd answers lower-term
    /// appends and heartbeats when CheckQuorum or PreVote is on). The leader never learns of term 33, node 3 never
    /// accepts the leader: it never catches up (liveness: applied 0 of 70 after 300 ticks).
    /// </summary>
    [Fact]
    public void AMemberWithAHigherTermAndAStaleMembershipCatchesUpAfterHealing()
    {
        var result = ClusterSimulation.Run(new SimulationOptions(110510, 3));
        Assert.True(result.Passed, result.Describe());
    }

    /// <summary>
    /// Seed 7173, 3 nodes, pre-vote and check-quorum off: the same stranding as seed 110510 in the configuration where
    /// the core used to stay silent on lower-term appends (it answered only with CheckQuorum or PreVote on).
    /// </summary>
    [Fact]
    public void AStrandedMemberIsFoundAlsoWithoutPreVoteOrCheckQuorum()
    {
        var result = ClusterSimulation.Run(new SimulationOptions(7173, 3));
        Assert.True(result.Passed, result.Describe());
    }

    /// <summary>
    /// Seed 10790, 5 nodes, pre-vote off, clock skew: two nodes with stale logs and fast clocks campaigned in turn for
    /// 27 terms. Every rejected vote request restarted the up-to-date nodes' election timers (they adopted the new
    /// term through the same path as a leader's message), so they never timed out first and no leader was elected.
    /// A rejected request now adopts the term without restarting the timer (the paper's Figure 2 rule).
    /// </summary>
    [Fact]
    public void StaleCandidatesWithFastClocksDoNotStarveElectableNodes()
    {
        var result = ClusterSimulation.Run(new SimulationOptions(10790, 5));
        Assert.True(result.Passed, result.Describe());
    }

    /// <summary>
    /// Seed 5016160, 3 nodes, pre-vote off (found by a 10-minute soak on the production host): node 3, cut off from the
    /// start, kept campaigning with an empty log and the founding membership, so its vote requests went only to node 2;
    /// node 2, the leader, removed itself and could no longer campaign, but took node 3's ever higher terms. Nodes 4 and
    /// 5, electable, campaigned at lower terms; nodes 2 and 3 ignored their stale vote requests, as etcd does, so 4 and 5
    /// never learned the higher term and never got a third vote (liveness: no leader after 300 ticks). A stale vote
    /// request is now answered with a rejection carrying the receiver's term (the paper's Figure 2 rule).
    /// </summary>
    [Fact]
    public void ElectableCandidatesLearnTheHigherTermOfNodesThatCannotLead()
    {
        var result = ClusterSimulation.Run(new SimulationOptions(5016160, 3));
        Assert.True(result.Passed, result.Describe());
    }
}
