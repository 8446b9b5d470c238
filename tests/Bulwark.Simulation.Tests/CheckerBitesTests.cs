using Bulwark.Simulation;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// A green simulator proves nothing unless its checkers catch real bugs. Each test switches on one deliberate
/// protocol bug, runs seeds under a fault schedule that makes that bug bite, and asserts a checker reports it
/// within a bounded number of seeds. The same schedules without the bug must stay green (no false alarms).
/// </summary>
public sealed class CheckerBitesTests(ITestOutputHelper output)
{
    private const int MaxSeeds = 60;

    [Theory]
    [InlineData(Sabotage.AckBeforePersist, "crash-heavy", 3, new[] { "leader completeness", "state machine safety", "durability", "linearizability", "core invariant", "log matching" })]
    [InlineData(Sabotage.VoteNotPersisted, "vote-amnesia", 3, new[] { "election safety", "core invariant" })]
    [InlineData(Sabotage.ReadWithoutReadIndex, "stale-reads", 3, new[] { "linearizability", "revisions" })]
    [InlineData(Sabotage.CommitPreviousTermEntriesByCount, "figure8", 5, new[] { "commit rule", "leader completeness", "state machine safety" })]
    [InlineData(Sabotage.GrantVoteIgnoringLogFreshness, "figure8", 5, new[] { "leader completeness", "state machine safety", "durability", "linearizability", "core invariant" })]
    [InlineData(Sabotage.ReadIndexWithoutQuorumCheck, "deposed-leader", 3, new[] { "linearizability", "revisions" })]
    [InlineData(Sabotage.ReadIndexBeforeTermCommit, "new-leader-reads", 3, new[] { "linearizability", "revisions" })]
    [InlineData(Sabotage.KeepAliveWithoutReadIndex, "deposed-lease-holder", 5, new[] { "lease safety" })]
    public void TheSimulatorCatchesTheBug(Sabotage sabotage, string profile, int nodes, string[] expectedCheckers)
    {
        for (var seed = 1; seed <= MaxSeeds; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions((ulong)seed, nodes, profile, sabotage));
            if (result.Passed)
            {
                continue;
            }

            output.WriteLine($"{sabotage} caught after {seed} seed(s):");
            output.WriteLine(result.Describe());
            Assert.True(
                result.Violations.Any(v => expectedCheckers.Any(c => v.Contains(c, StringComparison.Ordinal))),
                $"{sabotage} was caught, but not by the checkers expected ({string.Join(", ", expectedCheckers)}):{Environment.NewLine}{result.Describe()}");
            return;
        }

        Assert.Fail($"{sabotage} under profile {profile} went unnoticed for {MaxSeeds} seeds");
    }

    [Theory]
    [InlineData("crash-heavy", 3)]
    [InlineData("vote-amnesia", 3)]
    [InlineData("stale-reads", 3)]
    [InlineData("deposed-leader", 3)]
    [InlineData("new-leader-reads", 3)]
    [InlineData("figure8", 5)]
    public void TheSameSchedulesWithoutSabotageStayGreen(string profile, int nodes)
    {
        for (ulong seed = 1; seed <= 15; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, nodes, profile));
            Assert.True(result.Passed, result.Describe());
        }
    }
}
