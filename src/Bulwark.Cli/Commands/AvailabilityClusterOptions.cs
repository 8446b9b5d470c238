using System.CommandLine;
using Bulwark.Availability;
using Bulwark.Availability.Cluster;

namespace Bulwark.Cli.Commands;

/// <summary>The options that describe a cluster model, shared by `cluster` and `plot`.</summary>
internal sealed class AvailabilityClusterOptions
{
    public Option<int> Nodes { get; } = new("--nodes", "-n") { Description = "Number of nodes.", DefaultValueFactory = _ => 3 };

    public Option<int?> Quorum { get; } = new("--quorum", "-k") { Description = "Nodes that must be up (k of n). Default: a majority." };

    public Option<double?> MtbfHours { get; } = new("--mtbf-hours") { Description = "Per-node mean time between failures, hours (= 1/λ)." };

    public Option<double?> FailureRate { get; } = new("--failure-rate") { Description = "Per-node failure rate λ per hour (instead of --mtbf-hours)." };

    public Option<double?> MttrHours { get; } = new("--mttr-hours") { Description = "Per-node mean time to repair, hours (= 1/μ)." };

    public Option<double?> RepairRate { get; } = new("--repair-rate") { Description = "Per-node repair rate μ per hour (instead of --mttr-hours)." };

    public Option<bool> SharedRepair { get; } = new("--shared-repair") { Description = "One repair crew shared by all nodes (default: independent repair)." };

    public Option<int?> RepairCrews { get; } = new("--repair-crews") { Description = "Number of failed nodes that can be repaired at once." };

    public Option<double?> FailoverSeconds { get; } = new("--failover-seconds") { Description = "Mean failover (leader election) time after a leader failure, seconds." };

    public Option<double> Coverage { get; } = new("--coverage") { Description = "Probability a failover succeeds on its own (with --failover-seconds).", DefaultValueFactory = _ => 1.0 };

    public Option<double> Beta { get; } = new("--beta") { Description = "β-factor: fraction of the failure rate that is a common-cause shock failing all up nodes.", DefaultValueFactory = _ => 0.0 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Nodes, Quorum, MtbfHours, FailureRate, MttrHours, RepairRate, SharedRepair, RepairCrews, FailoverSeconds, Coverage, Beta })
        {
            command.Options.Add(option);
        }
    }

    public ClusterDescription Read(ParseResult parse)
    {
        double lambda = Rate(parse.GetValue(FailureRate), parse.GetValue(MtbfHours), "failure-rate", "mtbf-hours");
        double mu = Rate(parse.GetValue(RepairRate), parse.GetValue(MttrHours), "repair-rate", "mttr-hours");
        int? crews = parse.GetValue(RepairCrews);
        if (parse.GetValue(SharedRepair))
        {
            if (crews is not null && crews != 1)
            {
                throw new AvailabilityInputException("repair-crews", "--shared-repair means one crew; do not combine it with --repair-crews");
            }

            crews = 1;
        }

        FailoverModel? failover = null;
        double coverage = parse.GetValue(Coverage);
        if (parse.GetValue(FailoverSeconds) is { } seconds)
        {
            if (!double.IsFinite(seconds) || seconds < 0)
            {
                throw new AvailabilityInputException("failover-seconds", $"--failover-seconds is {seconds}; it must be ≥ 0");
            }

            failover = new FailoverModel(seconds / 3600, coverage);
        }
        else if (coverage != 1)
        {
            failover = new FailoverModel(0, coverage);
        }

        var description = new ClusterDescription(parse.GetValue(Nodes), lambda, mu, parse.GetValue(Quorum), crews, failover, parse.GetValue(Beta));
        try
        {
            description.Validate();
        }
        catch (AvailabilityInputException e)
        {
            // Name the command-line option rather than the library's field.
            throw new AvailabilityInputException(OptionName(e.Field), e.Reason);
        }

        return description;
    }

    private static double Rate(double? rate, double? meanHours, string rateName, string meanName)
    {
        if (rate is not null && meanHours is not null)
        {
            throw new AvailabilityInputException(rateName, $"give either --{rateName} or --{meanName}, not both");
        }

        if (rate is { } r)
        {
            if (!double.IsFinite(r) || r <= 0)
            {
                throw new AvailabilityInputException(rateName, $"--{rateName} is {r}; a rate must be a finite number > 0 (per hour)");
            }

            return r;
        }

        if (meanHours is { } h)
        {
            if (!double.IsFinite(h) || h <= 0)
            {
                throw new AvailabilityInputException(meanName, $"--{meanName} is {h}; it must be a finite number of hours > 0");
            }

            return 1 / h;
        }

        throw new AvailabilityInputException(meanName, $"--{meanName} (or --{rateName}) is required");
    }

    private static string OptionName(string field) => field switch
    {
        "failureRate" => "failure-rate",
        "repairRate" => "repair-rate",
        "repairCrews" => "repair-crews",
        "failoverDuration" => "failover-seconds",
        _ => field,
    };
}
