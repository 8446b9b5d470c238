using Bulwark.Simulation;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Replays one run chosen by environment variables (printed by every failure):
/// BULWARK_SIM_SEED, BULWARK_SIM_NODES, BULWARK_SIM_PROFILE, BULWARK_SIM_SABOTAGE, BULWARK_SIM_AUTH (1: auth on). Without them it runs seed 42.
/// </summary>
public sealed class ReplayTests(ITestOutputHelper output)
{
    [Fact]
    public void ReplayTheRunNamedByTheEnvironment()
    {
        var seed = Environment.GetEnvironmentVariable("BULWARK_SIM_SEED");
        var options = new SimulationOptions(
            seed is null ? 42UL : ulong.Parse(seed, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Environment.GetEnvironmentVariable("BULWARK_SIM_NODES") ?? "3", System.Globalization.CultureInfo.InvariantCulture),
            Environment.GetEnvironmentVariable("BULWARK_SIM_PROFILE") ?? "mixed",
            SimulatorCommand.ParseSabotage(Environment.GetEnvironmentVariable("BULWARK_SIM_SABOTAGE") is { Length: > 0 } s and not "None" ? s : null))
        {
            KeepTrace = seed is not null,
            Auth = Environment.GetEnvironmentVariable("BULWARK_SIM_AUTH") == "1",
        };
        var result = ClusterSimulation.Run(options);
        foreach (var line in result.Trace)
        {
            output.WriteLine(line);
        }

        output.WriteLine(result.Describe());
        Assert.True(result.Passed, result.Describe());
    }
}
