using System.Diagnostics;
using Bulwark.Simulation;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>The volume test: a thousand seeded runs, 3 and 5 nodes, every fault kind, every checker.</summary>
public sealed class SeededRunsTests(ITestOutputHelper output)
{
    public const int Runs = 1000;

    [Fact]
    public void AThousandSeededRunsFindNoViolation()
    {
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        var nodeCounts = new HashSet<int>();
        var livenessMax = 0;
        for (var i = 0; i < Runs; i++)
        {
            // Every tenth run switches on every fault kind at once; the rest draw a random mix per seed. Every run drives
            // the production host: write-ahead log, snapshot store, apply worker and the shipped MVCC store.
            var options = new SimulationOptions((ulong)(i + 1), i % 2 == 0 ? 3 : 5, i % 10 == 9 ? "all" : "mixed");
            var result = ClusterSimulation.Run(options);
            nodeCounts.Add(options.Nodes);
            kinds.UnionWith(result.Plan.Kinds().Split(','));
            livenessMax = Math.Max(livenessMax, result.Stats.LivenessTicks);
            if (!result.Passed)
            {
                failures.Add(result.Describe());
            }
        }

        output.WriteLine($"{Runs} runs in {clock.Elapsed.TotalSeconds:F1}s ({Runs / clock.Elapsed.TotalSeconds:F1} runs/s); slowest recovery {livenessMax} ticks; {failures.Count} failed");
        foreach (var failure in failures)
        {
            output.WriteLine(failure);
        }

        Assert.Equal([3, 5], nodeCounts.Order());
        Assert.All(FaultPlan.AllKinds, kind => Assert.Contains(kind, kinds));
        Assert.True(failures.Count == 0, $"{failures.Count} of {Runs} runs failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(10))}");
    }
}
