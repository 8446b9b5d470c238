using Bulwark.Consensus;
using Bulwark.Consensus.Membership;

namespace Bulwark.Simulation;

/// <summary>
/// The membership as the cluster committed it, checked against what every member applies and installs, and counts of
/// the membership situations a run reached (so a test can prove its runs exercised them):
/// <list type="bullet">
/// <item>a configuration entry applied at index i gives the same membership on every member: the committed membership
/// before it with its change applied;</item>
/// <item>every entry a member applies is applied under the membership in force at its index: a member that installed a
/// snapshot and then applied later configuration entries must have combined the snapshot's membership with those
/// entries exactly as the members that applied the whole log did;</item>
/// <item>a snapshot installed at index s carries the membership in force at s.</item>
/// </list>
/// </summary>
public sealed class MembershipLedger(SafetyMonitor monitor, ClusterConfig founding)
{
    /// <summary>A configuration entry this close to a snapshot's index (either side) races the snapshot.</summary>
    public const ulong RaceWindow = 5;

    // Committed memberships in the order they were first applied (ascending index: a member applies configuration
    // entries in log order, and no member can apply one before some member applied every earlier one).
    private readonly List<(ulong Index, ClusterConfig Config)> committed = [(0, founding)];

    // Configuration entries any member wrote to its log, committed or not (an overwritten one stays: it was in flight).
    private readonly SortedSet<ulong> written = [];
    private ulong highestCommit;

    /// <summary>Learner promotions committed (first member to apply each).</summary>
    public int Promotions { get; private set; }

    /// <summary>Removals of the voter that led the term of the removing entry (the leader removed itself), committed.</summary>
    public int LeaderRemovals { get; private set; }

    /// <summary>Nodes added to the membership (as learners or voters), committed.</summary>
    public int Additions { get; private set; }

    /// <summary>Snapshots installed from a leader, on any member.</summary>
    public int SnapshotInstalls { get; private set; }

    /// <summary>Installs at index s with a configuration entry written within <see cref="RaceWindow"/> entries of s
    /// (at or below s: the snapshot carries a change just made; above: the change follows it in the log).</summary>
    public int InstallsNearConfigChange { get; private set; }

    /// <summary>Installs at index s while some member's log held a configuration entry above s that no member had
    /// committed yet (a change in flight as the snapshot landed).</summary>
    public int InstallsWithConfigInFlight { get; private set; }

    /// <summary>Installs on nodes that joined after the founding (a new member catching up by snapshot).</summary>
    public int InstallsOnJoiningNodes { get; private set; }

    public void OnWritten(ulong node, Entry entry)
    {
        if (entry.Type == EntryType.ConfigChange)
        {
            written.Add(entry.Index);
        }
    }

    public void OnCommit(ulong commit) => highestCommit = Math.Max(highestCommit, commit);

    /// <summary>A member applied <paramref name="entry"/> and reports <paramref name="config"/> as the membership as of it.</summary>
    public void OnApplied(ulong node, Entry entry, ClusterConfig config)
    {
        if (entry.Type == EntryType.ConfigChange)
        {
            var last = committed[^1];
            if (entry.Index > last.Index)
            {
                // The first member to apply a change decides its index, but not its outcome: that follows from the
                // membership before it and the change alone.
                var derived = MembershipRules.Apply(last.Config, ConfigChange.Decode(entry.Data.Span));
                if (!derived.Equals(config))
                {
                    monitor.Fail($"membership safety: node {node} applied configuration entry {entry.Index} (term {entry.Term}) as membership {config}, but the change applied to the committed membership {last.Config} gives {derived}");
                }

                committed.Add((entry.Index, derived));
                Count(entry, last.Config, config);
                return;
            }
        }

        var expected = At(entry.Index);
        if (!expected.Equals(config))
        {
            monitor.Fail($"membership safety: node {node} applied entry {entry.Index} (term {entry.Term}) under membership {config}, but the membership committed as of index {entry.Index} is {expected}");
        }
    }

    /// <summary>A member installed a snapshot from a leader.</summary>
    public void OnInstalled(ulong node, SnapshotMetadata metadata, bool joinedLater)
    {
        SnapshotInstalls++;
        if (joinedLater)
        {
            InstallsOnJoiningNodes++;
        }

        var expected = At(metadata.Index);
        if (!expected.Equals(metadata.Config))
        {
            monitor.Fail($"membership safety: node {node} installed a snapshot at index {metadata.Index} carrying membership {metadata.Config}, but the membership committed as of index {metadata.Index} is {expected}");
        }

        var low = metadata.Index > RaceWindow ? metadata.Index - RaceWindow : 0;
        if (written.GetViewBetween(low + 1, metadata.Index + RaceWindow).Count > 0)
        {
            InstallsNearConfigChange++;
        }

        if (written.Max > Math.Max(metadata.Index, highestCommit))
        {
            InstallsWithConfigInFlight++;
        }
    }

    /// <summary>A member's core, with nothing in its log beyond what it applied, holds <paramref name="config"/>.</summary>
    public void OnCoreConfig(ulong node, ulong index, ClusterConfig config)
    {
        var expected = At(index);
        if (!expected.Equals(config))
        {
            monitor.Fail($"membership safety: node {node}'s core, its log ending at applied index {index}, is in membership {config}, but the membership committed as of index {index} is {expected}");
        }
    }

    private void Count(Entry entry, ClusterConfig before, ClusterConfig after)
    {
        var change = ConfigChange.Decode(entry.Data.Span);
        switch (change.Type)
        {
            case ConfigChangeType.PromoteLearner when before.Learners.Contains(change.NodeId) && after.Voters.Contains(change.NodeId):
                Promotions++;
                break;
            case ConfigChangeType.RemoveVoter when before.Voters.Contains(change.NodeId) && monitor.LeaderOf(entry.Term) == change.NodeId:
                LeaderRemovals++;
                break;
            case ConfigChangeType.AddLearner or ConfigChangeType.AddVoter when !before.AllMembers.Contains(change.NodeId):
                Additions++;
                break;
        }
    }

    private ClusterConfig At(ulong index)
    {
        // Binary search for the newest committed membership at or below index.
        int lo = 0, hi = committed.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (committed[mid].Index <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return committed[lo].Config;
    }
}
