using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

public sealed class DeterminismTests
{
    [Theory]
    [InlineData(7UL, 3, "all")]
    [InlineData(8UL, 5, "all")]
    [InlineData(9UL, 5, "mixed")]
    public void TheSameSeedGivesTheSameRun(ulong seed, int nodes, string profile)
    {
        var first = ClusterSimulation.Run(new SimulationOptions(seed, nodes, profile));
        var second = ClusterSimulation.Run(new SimulationOptions(seed, nodes, profile));
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Stats, second.Stats);
        Assert.Equal(first.Violations, second.Violations);
    }

    [Fact]
    public void DifferentSeedsGiveDifferentRuns()
    {
        var a = ClusterSimulation.Run(new SimulationOptions(1, 3, "all"));
        var b = ClusterSimulation.Run(new SimulationOptions(2, 3, "all"));
        Assert.NotEqual(a.TraceHash, b.TraceHash);
    }

    [Fact]
    public void AFailureNamesItsSeedAndAReplayCommand()
    {
        var options = new SimulationOptions(1234, 5, "stale-reads", Sabotage.ReadWithoutReadIndex);
        Assert.Equal(
            "dotnet run --project tests/Bulwark.Simulation -c Release -- replay --seed 1234 --nodes 5 --profile stale-reads --sabotage ReadWithoutReadIndex",
            options.ReplayCommand);
        Assert.Contains("BULWARK_SIM_SEED=1234", options.ReplayTestCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void TheReplayCommandRunsTheSameSimulation()
    {
        var writer = new StringWriter();
        var exit = SimulatorCommand.Run(["replay", "--seed", "8", "--nodes", "5", "--profile", "all"], writer);
        var expected = ClusterSimulation.Run(new SimulationOptions(8, 5, "all"));
        Assert.Contains($"trace {expected.TraceHash:x16}", writer.ToString(), StringComparison.Ordinal);
        Assert.Equal(expected.Passed ? 0 : 1, exit);
    }
}
