using Bulwark.Simulation;
using Bulwark.Verification;
using Xunit.Abstractions;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// The etcd KV workload with auth on (<see cref="SimulationOptions.Auth"/>): set up through the log, clients calling as
/// a user with readwrite on part of the key space, a share of calls on keys it may not touch, the permission revoked
/// and re-granted mid-run, under the mixed faults (crashes, partitions, snapshots carrying the auth state).
/// </summary>
public sealed class AuthRunsTests(ITestOutputHelper output)
{
    private const int Runs = 30;
    private const int MaxSeedsToCatch = 20;

    [Fact]
    public void SeededAuthRunsAreLinearizableAndNoRefusedCallHasAnEffect()
    {
        var failures = new List<string>();
        int allowed = 0, denied = 0, deniedOwn = 0, audits = 0, changes = 0, revocations = 0, stale = 0, linearizable = 0, snapshots = 0, crashes = 0;
        for (var i = 0; i < Runs; i++)
        {
            var options = new SimulationOptions((ulong)(20_000 + i), i % 2 == 0 ? 3 : 5, i % 5 == 4 ? "all" : "mixed") { Auth = true };
            var result = ClusterSimulation.Run(options);
            var stats = result.Stats;
            allowed += stats.AuthAllowed;
            denied += stats.AuthDenied;
            deniedOwn += stats.AuthDeniedOwnKeys;
            audits += stats.AuditReads;
            changes += stats.AuthChanges;
            revocations += stats.AuthRevocations;
            stale += stats.StaleAuthRetries;
            crashes += stats.Crashes;
            snapshots += stats.SnapshotInstalls;
            linearizable += result.Linearizability == CheckVerdict.Linearizable ? 1 : 0;
            if (!result.Passed)
            {
                failures.Add(result.Describe());
            }
        }

        output.WriteLine($"{Runs} auth runs: {linearizable} linearizable; user calls {allowed} allowed, {denied} refused on forbidden keys, " +
                         $"{deniedOwn} refused on its own keys; {audits} audit reads; {changes} auth changes ({revocations} revocations); " +
                         $"{stale} stale re-proposals; {crashes} crashes; {snapshots} snapshot installs; {failures.Count} failed");
        Assert.True(failures.Count == 0, $"{failures.Count} of {Runs} runs failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(10))}");
        // Non-vacuous: every situation the runs are for happened.
        Assert.True(allowed > 0, "no call of the user was ever allowed");
        Assert.True(denied > 0, "no call on a forbidden key was ever refused");
        Assert.True(deniedOwn > 0, "no call was ever refused while the user's permission was revoked");
        Assert.True(audits > 0, "root never read the forbidden keys");
        Assert.True(revocations > 0, "the user's permission was never revoked mid-run");
        Assert.True(stale > 0, "no command ever applied at a stale auth revision");
        Assert.True(crashes > 0 && snapshots > 0, "no crash and no snapshot install: the auth state never had to survive a restart or travel in a snapshot");
        Assert.True(linearizable > Runs / 2, $"only {linearizable} of {Runs} histories reached a linearizable verdict");
    }

    [Fact]
    public void TheSameSeedGivesTheSameAuthRun()
    {
        var first = ClusterSimulation.Run(new SimulationOptions(21, 3, "all") { Auth = true });
        var second = ClusterSimulation.Run(new SimulationOptions(21, 3, "all") { Auth = true });
        Assert.True(first.Passed, first.Describe());
        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Stats, second.Stats);
    }

    [Fact]
    public void AnApplyPathThatSkipsThePermissionCheckIsCaught()
    {
        for (var seed = 1; seed <= MaxSeedsToCatch; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions((ulong)seed, 3, "mixed", Sabotage.ApplyWithoutPermissionCheck) { Auth = true });
            if (result.Passed)
            {
                continue;
            }

            output.WriteLine($"caught after {seed} seed(s):");
            output.WriteLine(result.Describe());
            Assert.Contains(result.Violations, v => v.Contains("] auth:", StringComparison.Ordinal) || v.Contains("linearizability", StringComparison.Ordinal));
            return;
        }

        Assert.Fail($"an apply path without the permission check went unnoticed for {MaxSeedsToCatch} seeds");
    }
}
