using Bulwark.Simulation;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Seeded runs of the production host with gray-failure handling on (followers suspecting a silent leader, a degraded
/// leader handing over): it only changes when campaigns and transfers start, so every safety and liveness checker must
/// still pass under every fault kind, with message delay jitter, partitions, crashes and slow syncs.
/// </summary>
public sealed class GrayFailureRunsTests(ITestOutputHelper output)
{
    private const int Runs = 60;

    [Fact]
    public void SeededRunsWithGrayFailureHandlingFindNoViolation()
    {
        var failures = new List<string>();
        var livenessMax = 0;
        for (var i = 0; i < Runs; i++)
        {
            var options = new SimulationOptions((ulong)(50_001 + i), i % 2 == 0 ? 3 : 5, i % 10 == 9 ? "all" : "mixed") { GrayFailure = true };
            var result = ClusterSimulation.Run(options);
            livenessMax = Math.Max(livenessMax, result.Stats.LivenessTicks);
            if (!result.Passed)
            {
                failures.Add(result.Describe());
            }
        }

        output.WriteLine($"{Runs} runs with gray-failure handling; slowest recovery {livenessMax} ticks; {failures.Count} failed");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
