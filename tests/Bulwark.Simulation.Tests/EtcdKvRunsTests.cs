using Bulwark.Simulation;
using Bulwark.Verification;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// The shipped store (Bulwark.Kv's MVCC state machine, applied by the production host's apply worker) replicated in the
/// simulator: compare-and-sets are etcd Txns, and every run's history must be linearizable against <see cref="KvModel"/>.
/// </summary>
public sealed class EtcdKvRunsTests(ITestOutputHelper output)
{
    private const int Runs = 100;
    private const int MaxSeedsToCatch = 60;

    [Fact]
    public void AHundredSeededRunsOfTheEtcdKvFindNoViolation()
    {
        var failures = new List<string>();
        var swapsSucceeded = 0;
        var swapsFailed = 0;
        var linearizable = 0;
        for (var i = 0; i < Runs; i++)
        {
            var options = new SimulationOptions((ulong)(10_000 + i), i % 2 == 0 ? 3 : 5, i % 10 == 9 ? "all" : "mixed");
            var result = ClusterSimulation.Run(options);
            swapsSucceeded += result.Stats.SwapsSucceeded;
            swapsFailed += result.Stats.SwapsFailed;
            linearizable += result.Linearizability == CheckVerdict.Linearizable ? 1 : 0;
            if (!result.Passed)
            {
                failures.Add(result.Describe());
            }
        }

        output.WriteLine($"{Runs} etcd-KV runs: {linearizable} checked linearizable; Txn compare-and-sets {swapsSucceeded} succeeded, {swapsFailed} failed; {failures.Count} failed runs");
        Assert.True(failures.Count == 0, $"{failures.Count} of {Runs} runs failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(10))}");
        Assert.True(swapsSucceeded > 0, "no Txn compare-and-set ever succeeded: the test would pass vacuously");
        Assert.True(swapsFailed > 0, "no Txn compare-and-set ever failed: the compare was never exercised");
        Assert.True(linearizable > 0, "the linearizability checker never reached a verdict");
    }

    [Fact]
    public void TheSameSeedGivesTheSameRunOnTheEtcdKv()
    {
        var first = ClusterSimulation.Run(new SimulationOptions(11, 3, "all"));
        var second = ClusterSimulation.Run(new SimulationOptions(11, 3, "all"));
        Assert.True(first.Passed, first.Describe());
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Stats, second.Stats);
    }

    [Fact]
    public void ATxnThatIgnoresItsCompareIsCaught()
    {
        for (var seed = 1; seed <= MaxSeedsToCatch; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions((ulong)seed, 3, "mixed", Sabotage.TxnIgnoresCompare));
            if (result.Passed)
            {
                continue;
            }

            output.WriteLine($"caught after {seed} seed(s):");
            output.WriteLine(result.Describe());
            Assert.Contains(result.Violations, v => v.Contains("linearizability", StringComparison.Ordinal));
            return;
        }

        Assert.Fail($"a Txn ignoring its compare went unnoticed for {MaxSeedsToCatch} seeds");
    }
}
