using Bulwark.Consensus;
using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

/// <summary>The membership ledger's checks, fed by hand: a right history passes, each kind of wrong membership fails.</summary>
public sealed class MembershipLedgerTests
{
    private static readonly ClusterConfig Founding = ClusterConfig.Of(1, 2, 3);
    private static readonly ClusterConfig WithLearner4 = Founding with { Learners = [4] };
    private static readonly ClusterConfig With4 = ClusterConfig.Of(1, 2, 3, 4);
    private static readonly ClusterConfig Without1 = ClusterConfig.Of(2, 3, 4);

    private static Entry Change(ulong index, ulong term, ConfigChangeType type, ulong node) =>
        new(term, index, EntryType.ConfigChange, new ConfigChange(type, node).Encode());

    private static Entry Normal(ulong index, ulong term) => new(term, index, EntryType.Normal, new byte[] { 1 });

    private static (SafetyMonitor Monitor, MembershipLedger Ledger) Replaced()
    {
        var monitor = new SafetyMonitor(() => 0);
        monitor.OnLeader(1, 1, new LogMirror().Current);
        var ledger = new MembershipLedger(monitor, Founding);
        ledger.OnApplied(2, Normal(1, 1), Founding);
        ledger.OnApplied(2, Change(2, 1, ConfigChangeType.AddLearner, 4), WithLearner4);
        ledger.OnApplied(2, Change(3, 1, ConfigChangeType.PromoteLearner, 4), With4);
        ledger.OnApplied(2, Change(4, 1, ConfigChangeType.RemoveVoter, 1), Without1);
        ledger.OnApplied(2, Normal(5, 2), Without1);
        return (monitor, ledger);
    }

    [Fact]
    public void A_consistent_history_passes_and_is_counted()
    {
        var (monitor, ledger) = Replaced();
        ledger.OnApplied(3, Change(3, 1, ConfigChangeType.PromoteLearner, 4), With4);
        ledger.OnInstalled(4, new SnapshotMetadata(3, 1, With4), joinedLater: true);
        ledger.OnApplied(4, Change(4, 1, ConfigChangeType.RemoveVoter, 1), Without1);
        ledger.OnCoreConfig(4, 4, Without1);

        Assert.Empty(monitor.Violations);
        Assert.Equal(1, ledger.Additions);
        Assert.Equal(1, ledger.Promotions);
        Assert.Equal(1, ledger.LeaderRemovals);
        Assert.Equal(1, ledger.InstallsOnJoiningNodes);
    }

    [Fact]
    public void An_entry_applied_under_the_wrong_membership_fails()
    {
        var (monitor, ledger) = Replaced();
        // A member that installed a snapshot at 3 and forgot the removal at 4 that followed it.
        ledger.OnApplied(4, Normal(5, 2), With4);
        Assert.Contains(monitor.Violations, v => v.Contains("membership safety", StringComparison.Ordinal));
    }

    [Fact]
    public void A_snapshot_with_a_stale_membership_fails()
    {
        var (monitor, ledger) = Replaced();
        ledger.OnInstalled(4, new SnapshotMetadata(4, 1, With4), joinedLater: true);
        Assert.Contains(monitor.Violations, v => v.Contains("membership safety", StringComparison.Ordinal));
    }

    [Fact]
    public void A_change_applied_to_the_wrong_result_fails()
    {
        var monitor = new SafetyMonitor(() => 0);
        var ledger = new MembershipLedger(monitor, Founding);
        ledger.OnApplied(1, Change(1, 1, ConfigChangeType.AddLearner, 4), With4);
        Assert.Contains(monitor.Violations, v => v.Contains("membership safety", StringComparison.Ordinal));
    }

    [Fact]
    public void A_core_in_the_wrong_membership_fails()
    {
        var (monitor, ledger) = Replaced();
        ledger.OnCoreConfig(3, 5, With4);
        Assert.Contains(monitor.Violations, v => v.Contains("membership safety", StringComparison.Ordinal));
    }
}
