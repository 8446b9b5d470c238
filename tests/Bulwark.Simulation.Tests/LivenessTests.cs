using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Every run checks liveness after healing; these pin down that it is really measured: calm clusters recover at
/// once, and clusters hammered by crashes and partitions still elect a leader and commit within the bound.
/// </summary>
public sealed class LivenessTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void ACalmClusterCommitsRightAfterTheChaosPhase(int nodes)
    {
        var result = ClusterSimulation.Run(new SimulationOptions(11, nodes, "calm"));
        Assert.True(result.Passed, result.Describe());
        Assert.InRange(result.Stats.LivenessTicks, 0, 5);
        Assert.Equal(1, result.Stats.LeadersElected);
        Assert.True(result.Stats.OperationsCompleted > 20, result.Describe());
    }

    [Theory]
    [InlineData("crash-heavy", 3)]
    [InlineData("election-storm", 5)]
    [InlineData("figure8", 5)]
    [InlineData("all", 3)]
    public void HammeredClustersRecoverWithinTheBound(string profile, int nodes)
    {
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, nodes, profile));
            Assert.True(result.Passed, result.Describe());
            Assert.InRange(result.Stats.LivenessTicks, 0, new SimulationOptions(seed).LivenessBoundTicks);
        }
    }

    [Fact]
    public void ALivenessBoundTooShortToElectALeaderIsReported()
    {
        // One tick after a crash-heavy phase cannot be enough: the check must fail rather than pass vacuously.
        var result = ClusterSimulation.Run(new SimulationOptions(3, 3, "crash-heavy") { LivenessBoundTicks = 1 });
        Assert.False(result.Passed);
        Assert.Contains(result.Violations, v => v.Contains("liveness", StringComparison.Ordinal));
    }
}
