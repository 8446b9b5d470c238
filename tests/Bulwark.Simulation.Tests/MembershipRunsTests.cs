using Bulwark.Simulation;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// Membership changes under faults (issue 13): learners promoted and leaders removing themselves while crashes,
/// partitions and lost messages move leadership around (profile "membership"), and snapshots installed on joining or
/// lagging members while a change is in flight or just committed (profile "snapshot-membership"). Every run must pass
/// every checker (safety, membership, linearizability, liveness), and the runs together must prove they reached the
/// situation: a schedule that stopped producing it fails here rather than passing vacuously.
/// </summary>
public sealed class MembershipRunsTests(ITestOutputHelper output)
{
    private const ulong Seeds = 12;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Learners_are_promoted_and_leaders_removed_under_faults(int nodes)
    {
        var totals = RunSeeds("membership", nodes);

        // Each run replaces several members; most replacements remove the leader. Lower bounds well under what the
        // seeds reach (see the output), but far above zero.
        Assert.True(totals.Promotions >= 2 * (int)Seeds, $"only {totals.Promotions} learner promotions committed in {Seeds} runs");
        Assert.True(totals.LeaderRemovals >= (int)Seeds, $"only {totals.LeaderRemovals} leader removals committed in {Seeds} runs");
        Assert.True(totals.RunsWithLeaderRemoval >= (int)Seeds * 3 / 4, $"only {totals.RunsWithLeaderRemoval} of {Seeds} runs removed a leader");
        Assert.True(totals.Crashes > 0 && totals.Partitions > 0, "the runs had no crashes or no partitions");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Snapshot_installs_race_membership_changes(int nodes)
    {
        var totals = RunSeeds("snapshot-membership", nodes);

        Assert.True(totals.InstallsOnJoiningNodes >= (int)Seeds, $"only {totals.InstallsOnJoiningNodes} snapshots installed on joining nodes in {Seeds} runs");
        Assert.True(totals.InstallsNearConfigChange >= 2 * (int)Seeds, $"only {totals.InstallsNearConfigChange} installs within {MembershipLedger.RaceWindow} entries of a configuration entry");
        Assert.True(totals.InstallsWithConfigInFlight >= (int)Seeds / 2, $"only {totals.InstallsWithConfigInFlight} installs while a configuration entry above the snapshot was uncommitted");
        Assert.True(totals.Promotions > 0 && totals.LeaderRemovals > 0, $"promotions {totals.Promotions}, leader removals {totals.LeaderRemovals}");
    }

    /// <summary>
    /// The membership checks bite: snapshots sent with the founding membership in their metadata (a stale membership
    /// for any receiver once the first change committed) are caught.
    /// </summary>
    [Fact]
    public void A_snapshot_carrying_a_stale_membership_is_caught()
    {
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, 3, "snapshot-membership", Sabotage.SnapshotCarriesFoundingMembership));
            if (result.Passed)
            {
                continue;
            }

            output.WriteLine($"caught after {seed} seed(s):{Environment.NewLine}{result.Describe()}");
            Assert.Contains(result.Violations, v => v.Contains("membership safety", StringComparison.Ordinal));
            return;
        }

        Assert.Fail("snapshots carrying the founding membership went unnoticed for 10 seeds");
    }

    private Totals RunSeeds(string profile, int nodes)
    {
        var totals = new Totals();
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, nodes, profile));
            output.WriteLine(result.Describe());
            Assert.True(result.Passed, result.Describe());
            var stats = result.Stats;
            totals.Promotions += stats.Promotions;
            totals.LeaderRemovals += stats.LeaderRemovals;
            totals.RunsWithLeaderRemoval += stats.LeaderRemovals > 0 ? 1 : 0;
            totals.InstallsOnJoiningNodes += stats.InstallsOnJoiningNodes;
            totals.InstallsNearConfigChange += stats.InstallsNearConfigChange;
            totals.InstallsWithConfigInFlight += stats.InstallsWithConfigInFlight;
            totals.Crashes += stats.Crashes;
            totals.Partitions += result.Plan.Partitions ? 1 : 0;
        }

        output.WriteLine($"{profile}, {nodes} nodes, {Seeds} seeds: {totals}");
        return totals;
    }

    private sealed record Totals
    {
        public int Promotions { get; set; }
        public int LeaderRemovals { get; set; }
        public int RunsWithLeaderRemoval { get; set; }
        public int InstallsOnJoiningNodes { get; set; }
        public int InstallsNearConfigChange { get; set; }
        public int InstallsWithConfigInFlight { get; set; }
        public int Crashes { get; set; }
        public int Partitions { get; set; }
    }
}
