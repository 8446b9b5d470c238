using Bulwark.Chaos.Cluster;
using Bulwark.Chaos.Faults;

namespace Bulwark.Chaos;

/// <summary>Everything `bulwark chaos` was asked to do.</summary>
public sealed record ChaosSettings
{
    /// <summary>"bulwark" or "etcd": what the started cluster runs.</summary>
    public string Target { get; init; } = "bulwark";

    /// <summary>Client endpoints of a running cluster to use instead of starting one (then no fault can be applied).</summary>
    public IReadOnlyList<string>? Endpoints { get; init; }

    public int Size { get; init; } = 3;

    public int Clients { get; init; } = 8;

    public int Keys { get; init; } = 5;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan FaultEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Faults start this long after the workload, so the report has a fault-free baseline.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public int Seed { get; init; } = 1;

    public IReadOnlyList<FaultKind> Faults { get; init; } = [FaultKind.KillLeader, FaultKind.KillFollower, FaultKind.PauseLeader, FaultKind.PartitionLeader];

    public TimeSpan OpTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Time budget of the linearizability check; past it the verdict is "unknown".</summary>
    public TimeSpan CheckTime { get; init; } = TimeSpan.FromSeconds(120);

    public required string OutDir { get; init; }

    /// <summary>Where the members keep their data; a fresh temporary directory when null.</summary>
    public string? DataDir { get; init; }

    public bool KeepData { get; init; }

    public RaftTiming Timing { get; init; } = new(null, null);

    /// <summary>How to run `bulwark serve` (this same program).</summary>
    public (string File, IReadOnlyList<string> Prefix) BulwarkCommand { get; init; } = ("bulwark", []);

    public void Validate()
    {
        if (Target is not ("bulwark" or "etcd"))
        {
            throw new ChaosInputException("--target", $"'{Target}' is not a target; use bulwark or etcd");
        }

        Check(Size is >= 1 and <= 5, "--size", $"{Size}: a cluster here has 1 to 5 members");
        Check(Clients is >= 1 and <= 256, "--clients", $"{Clients}: use 1 to 256 clients");
        Check(Keys is >= 2 and <= 1000, "--keys", $"{Keys}: use 2 to 1000 keys");
        Check(Duration > TimeSpan.Zero, "--duration", "must be more than 0");
        Check(FaultEvery >= TimeSpan.FromSeconds(1), "--fault-every", "must be at least 1 s");
        Check(OpTimeout >= TimeSpan.FromMilliseconds(50), "--op-timeout", "must be at least 50 ms");
        Check(CheckTime > TimeSpan.Zero, "--check-time", "must be more than 0");
        if (Endpoints is { Count: > 0 } && Faults.Count > 0)
        {
            throw new ChaosInputException("--faults", $"with --endpoints no fault can be applied: every fault ({string.Join(", ", Faults.Select(f => f.Name()))}) needs the member processes or their network namespaces, which only a cluster started by `bulwark chaos` has; give --faults none to run the recording workload and the checks alone");
        }

        if (Endpoints is { Count: > 0 } && Target != "bulwark")
        {
            throw new ChaosInputException("--target", "--target starts a cluster; it cannot be combined with --endpoints");
        }

        if (Faults.Any(f => !f.IsKill() && !f.IsPause() && !f.NeedsNetwork() && !f.NeedsFaultPoints()))
        {
            throw new ChaosInputException("--faults", "a fault kind without an implementation");
        }

        if (Size < 3 && Faults.Count > 0)
        {
            throw new ChaosInputException("--size", "faults need at least 3 members (a majority must survive one member's fault)");
        }
    }

    private static void Check(bool ok, string option, string message)
    {
        if (!ok)
        {
            throw new ChaosInputException(option, message);
        }
    }
}
