using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Issue 10's scenario on the production host: the leader's link to one follower is cut one way and the other follower
/// is told, falsely and again and again, that the leader's connection closed. The healthy leader keeps a majority, so
/// its term must never change: exactly one leader for the whole run. (A notice once cleared the follower's leader at
/// once, so it granted the cut-off follower's pre-vote and the term moved.)
/// </summary>
public sealed class FalseNoticeScenarioTests
{
    [Fact]
    public void A_false_notice_beside_a_one_way_cut_does_not_depose_a_healthy_leader()
    {
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, 3, "false-notice") { KeepTrace = true });
            Assert.True(result.Passed, result.Describe());
            Assert.Contains(result.Trace, line => line.Contains("cut-one-way", StringComparison.Ordinal));
            Assert.True(result.Stats.LeadersElected == 1, $"seed {seed}: {result.Stats.LeadersElected} leaders elected{Environment.NewLine}{result.Describe()}");
        }
    }
}
