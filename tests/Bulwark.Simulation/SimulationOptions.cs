namespace Bulwark.Simulation;

/// <summary>What to run: everything else follows from the seed.</summary>
public sealed record SimulationOptions(ulong Seed, int Nodes = 3, string Profile = "mixed", Sabotage Sabotage = Sabotage.None)
{
    /// <summary>Virtual microseconds per tick at nominal clock rate.</summary>
    public long TickMicros { get; init; } = 10_000;

    /// <summary>After faults stop, a leader must be elected and a proposal committed everywhere within this many ticks.</summary>
    public int LivenessBoundTicks { get; init; } = 300;

    /// <summary>A client gives up on a call after this long (virtual microseconds); its outcome is then unknown.</summary>
    public long ClientTimeout { get; init; } = 500_000;

    /// <summary>
    /// Run the hosts with gray-failure handling on (leader suspicion, health transfers; docs/consensus.md, "Gray
    /// failures") on virtual time. Off by default, so the seeded runs keep their recorded behaviour.
    /// </summary>
    public bool GrayFailure { get; init; }

    /// <summary>
    /// Run the workload with auth on (<see cref="AuthAdmin"/>): root, a role with readwrite on the workload's keys and
    /// a user holding it are set up and auth enabled through the log, clients call as that user, a share of their
    /// calls target keys the user may not touch, and the role's permission is revoked and re-granted mid-run.
    /// </summary>
    public bool Auth { get; init; }

    /// <summary>
    /// With <see cref="GrayFailure"/>: followers report a leader that is alive but not committing, and a quorum of
    /// reports starts a campaign (GrayFailureOptions.NoProgressReports). On by default, as in production; off only to
    /// compare runs with and without it.
    /// </summary>
    public bool NoProgressReports { get; init; } = true;

    /// <summary>Keep a human-readable event trace (replay --trace).</summary>
    public bool KeepTrace { get; init; }

    /// <summary>The one command that replays exactly this run.</summary>
    public string ReplayCommand =>
        $"dotnet run --project tests/Bulwark.Simulation -c Release -- replay --seed {Seed} --nodes {Nodes}" +
        (Profile == "mixed" ? "" : $" --profile {Profile}") +
        (Sabotage == Sabotage.None ? "" : $" --sabotage {Sabotage.ToString().Replace(", ", ",", StringComparison.Ordinal)}") +
        (Auth ? " --auth" : "");

    /// <summary>The same run through the test suite (the Replay test honours these variables).</summary>
    public string ReplayTestCommand =>
        $"BULWARK_SIM_SEED={Seed} BULWARK_SIM_NODES={Nodes} BULWARK_SIM_PROFILE={Profile} BULWARK_SIM_SABOTAGE={Sabotage.ToString().Replace(", ", ",", StringComparison.Ordinal)} " +
        (Auth ? "BULWARK_SIM_AUTH=1 " : "") +
        "dotnet test tests/Bulwark.Simulation.Tests -c Release --filter FullyQualifiedName~ReplayTests";
}
