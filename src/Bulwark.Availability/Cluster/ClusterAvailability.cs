namespace Bulwark.Availability.Cluster;

/// <summary>Steady-state figures of a cluster model. Times in hours, frequencies per hour unless named otherwise.</summary>
/// <param name="Availability">Long-run fraction of time a quorum serves (sum of π over up states).</param>
/// <param name="Unavailability">Sum of π over down states, computed directly rather than as 1 − A so its digits survive.</param>
/// <param name="Nines">−log10(unavailability); +∞ if it is 0.</param>
/// <param name="DowntimeMinutesPerYear">Unavailability × one Julian year (8766 h) in minutes.</param>
/// <param name="MeanTimeToFailureHours">Mean time from all nodes up to the first outage (absorbing chain).</param>
/// <param name="MeanTimeToFailureWithoutRepairHours">The same if failed nodes were never repaired.</param>
/// <param name="MeanUpTimeHours">Mean length of an up period in the long run, A / f.</param>
/// <param name="MeanDownTimeHours">Mean length of an outage in the long run, U / f.</param>
/// <param name="FailureFrequencyPerHour">Long-run rate of outages f = Σ_{up i} π_i Σ_{down j} q_ij.</param>
/// <param name="StateCount">States in the generated chain.</param>
public sealed record ClusterAvailability(
    double Availability,
    double Unavailability,
    double Nines,
    double DowntimeMinutesPerYear,
    double MeanTimeToFailureHours,
    double MeanTimeToFailureWithoutRepairHours,
    double MeanUpTimeHours,
    double MeanDownTimeHours,
    double FailureFrequencyPerHour,
    int StateCount)
{
    /// <summary>Hours in a Julian year (365.25 days), the year used for "per year" figures.</summary>
    public const double HoursPerYear = 8766;

    public double FailuresPerYear => FailureFrequencyPerHour * HoursPerYear;

    /// <summary>Solves a model for its steady-state figures.</summary>
    public static ClusterAvailability Analyze(ClusterModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var chain = model.Chain;
        var pi = chain.SteadyState();
        double availability = 0;
        double unavailability = 0;
        double frequency = 0;
        for (int i = 0; i < pi.Length; i++)
        {
            if (model.UpStates.Contains(i))
            {
                availability += pi[i];
                double toDown = 0;
                foreach (int j in model.DownStates)
                {
                    toDown += chain.Rate(i, j);
                }

                frequency += pi[i] * toDown;
            }
            else
            {
                unavailability += pi[i];
            }
        }

        double mttf = chain.MeanTimeToAbsorption(model.AllUpDistribution(), model.DownStates);
        return new ClusterAvailability(
            availability,
            unavailability,
            NinesOf(unavailability),
            unavailability * HoursPerYear * 60,
            mttf,
            model.MeanTimeToFailureWithoutRepair(),
            frequency > 0 ? availability / frequency : double.PositiveInfinity,
            frequency > 0 ? unavailability / frequency : 0,
            frequency,
            pi.Length);
    }

    /// <summary>Builds and solves the model of a description.</summary>
    public static ClusterAvailability Analyze(ClusterDescription description) => Analyze(ClusterModel.Build(description));

    /// <summary>Point availability A(t) from all-up at each time (hours, ascending), by uniformization.</summary>
    public static double[] PointAvailability(ClusterModel model, IReadOnlyList<double> timesHours)
    {
        ArgumentNullException.ThrowIfNull(model);
        var distributions = model.Chain.Transient(model.AllUpDistribution(), timesHours);
        return distributions.Select(p => model.UpStates.Sum(i => p[i])).ToArray();
    }

    /// <summary>Point unavailability 1 − A(t), summed over down states, at each time.</summary>
    public static double[] PointUnavailability(ClusterModel model, IReadOnlyList<double> timesHours)
    {
        ArgumentNullException.ThrowIfNull(model);
        var distributions = model.Chain.Transient(model.AllUpDistribution(), timesHours);
        return distributions.Select(p => model.DownStates.Sum(i => p[i])).ToArray();
    }

    public static double NinesOf(double unavailability) =>
        unavailability > 0 ? -Math.Log10(unavailability) : double.PositiveInfinity;
}
