using System.Globalization;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>The outcome of one seeded run.</summary>
public sealed record SimulationResult(
    SimulationOptions Options,
    FaultPlan Plan,
    IReadOnlyList<string> Violations,
    ulong TraceHash,
    CheckVerdict Linearizability,
    SimulationStats Stats,
    IReadOnlyList<string> Trace)
{
    public bool Passed => Violations.Count == 0;

    public string Describe()
    {
        var sabotage = Options.Sabotage == Sabotage.None ? "" : $" sabotage {Options.Sabotage}";
        var text = string.Create(CultureInfo.InvariantCulture,
            $"seed {Options.Seed} nodes {Options.Nodes} profile {Options.Profile} faults [{Plan.Kinds()}]{sabotage}: {(Passed ? "ok" : "FAILED")} (lin {Linearizability}, trace {TraceHash:x16}) {Stats}");
        if (!Passed)
        {
            text += Environment.NewLine + string.Join(Environment.NewLine, Violations.Select(v => "  " + v)) +
                    Environment.NewLine + "  replay: " + Options.ReplayCommand +
                    Environment.NewLine + "      or: " + Options.ReplayTestCommand;
        }

        return text;
    }
}

public sealed record SimulationStats(
    long Events,
    long VirtualMicros,
    long MessagesSent,
    long MessagesDropped,
    int OperationsCompleted,
    int OperationsUnknown,
    int LeadersElected,
    int Crashes,
    int LivenessTicks,
    ulong FinalApplied,
    int OldTermCommits,
    int SwapsSucceeded,
    int SwapsFailed,
    int WriteHolds,
    int WriteResumes,
    int NoSpaceRefusals)
{
    /// <summary>"Alive but not committing" reports sent, by all members (each report counted once).</summary>
    public long NoProgressReports { get; init; }

    /// <summary>Campaigns started because a quorum reported the leader not committing.</summary>
    public long NoProgressCampaigns { get; init; }

    /// <summary>With <see cref="FaultPlan.StuckLeader"/>: nominal ticks until the wedged leader was replaced (-1: never).</summary>
    public int StuckLeaderReplacedTicks { get; init; } = -1;

    /// <summary>Keep-alives (and grants) answered with a TTL, in runs with lease clients.</summary>
    public int LeasePromises { get; init; }

    /// <summary>Leases revoked by expiry (the leader's lease keeper), in runs with lease clients.</summary>
    public int LeasesExpired { get; init; }

    /// <summary>Reads of leased keys checked against the revocations.</summary>
    public int LeaseReads { get; init; }

    /// <summary>Learner promotions committed.</summary>
    public int Promotions { get; init; }

    /// <summary>Committed removals of the voter that led the removing entry's term.</summary>
    public int LeaderRemovals { get; init; }

    /// <summary>Nodes added to the membership, committed.</summary>
    public int MembersAdded { get; init; }

    /// <summary>Snapshots installed from a leader (any member).</summary>
    public int SnapshotInstalls { get; init; }

    /// <summary>Installs with a configuration entry within <see cref="MembershipLedger.RaceWindow"/> entries of the snapshot's index.</summary>
    public int InstallsNearConfigChange { get; init; }

    /// <summary>Installs while a configuration entry above the snapshot was in some log and committed nowhere.</summary>
    public int InstallsWithConfigInFlight { get; init; }

    /// <summary>Installs on nodes that joined after the founding.</summary>
    public int InstallsOnJoiningNodes { get; init; }

    /// <summary>Auth runs: the user's calls answered ok.</summary>
    public int AuthAllowed { get; init; }

    /// <summary>Auth runs: the user's calls on keys it may not touch, refused.</summary>
    public int AuthDenied { get; init; }

    /// <summary>Auth runs: the user's calls on its own keys refused (permission revoked at the time, or stale too often).</summary>
    public int AuthDeniedOwnKeys { get; init; }

    /// <summary>Auth runs: root's reads of the forbidden keys.</summary>
    public int AuditReads { get; init; }

    /// <summary>Auth runs: auth changes applied mid-run (revocations, re-grants, unrelated grants).</summary>
    public int AuthChanges { get; init; }

    /// <summary>Auth runs: revocations of the user's permission applied.</summary>
    public int AuthRevocations { get; init; }

    /// <summary>Commands that applied as stale ("revision of auth store is old") and were proposed again.</summary>
    public int StaleAuthRetries { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"events={Events} vt={VirtualMicros / 1000}ms msgs={MessagesSent} dropped={MessagesDropped} ops={OperationsCompleted} unknown={OperationsUnknown} leaders={LeadersElected} crashes={Crashes} liveness={LivenessTicks}t applied={FinalApplied} oldtermcommits={OldTermCommits} cas={SwapsSucceeded}ok/{SwapsFailed}failed diskfull={WriteHolds}held/{WriteResumes}resumed/{NoSpaceRefusals}refused") + MembershipSummary() + LeaseSummary() + AuthSummary();

    private string AuthSummary() => AuthAllowed + AuthDenied + AuthChanges == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $" auth={AuthAllowed}allowed/{AuthDenied}denied/{AuthDeniedOwnKeys}deniedown/{AuditReads}audits/{AuthChanges}changes/{AuthRevocations}revoked/{StaleAuthRetries}stale");

    private string MembershipSummary() => MembersAdded + SnapshotInstalls == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $" members={MembersAdded}added/{Promotions}promoted/{LeaderRemovals}leaderremoved installs={SnapshotInstalls}/{InstallsNearConfigChange}nearconfig/{InstallsWithConfigInFlight}configinflight/{InstallsOnJoiningNodes}joiners");

    private string LeaseSummary() => LeasePromises == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $" leases={LeasePromises}promised/{LeasesExpired}expired/{LeaseReads}reads");
}
