namespace Bulwark.Availability.Markov;

/// <summary>
/// The two-state discrete-time availability model: S0 = up, S1 = down, one step fails with probability p01 and
/// repairs with probability p10, P = [[1 − p01, p01], [p10, 1 − p10]]. Everything here is a closed form.
/// </summary>
public sealed record TwoStateChain
{
    public TwoStateChain(double p01, double p10)
    {
        if (!double.IsFinite(p01) || p01 < 0 || p01 > 1)
        {
            throw new AvailabilityInputException("p01", $"p01 (failure probability per step) is {p01}; it must be in [0, 1]");
        }

        if (!double.IsFinite(p10) || p10 < 0 || p10 > 1)
        {
            throw new AvailabilityInputException("p10", $"p10 (repair probability per step) is {p10}; it must be in [0, 1]");
        }

        if (p01 + p10 == 0)
        {
            throw new AvailabilityInputException("p01", "p01 and p10 are both 0: the chain never moves and has no unique steady state");
        }

        P01 = p01;
        P10 = p10;
    }

    public double P01 { get; }

    public double P10 { get; }

    /// <summary>Steady-state availability π0 = p10 / (p01 + p10).</summary>
    public double SteadyStateAvailability => P10 / (P01 + P10);

    /// <summary>Steady-state unavailability π1 = p01 / (p01 + p10), computed directly rather than as 1 − π0.</summary>
    public double SteadyStateUnavailability => P01 / (P01 + P10);

    /// <summary>The second eigenvalue 1 − p01 − p10 that governs how fast the chain forgets its start.</summary>
    public double Eigenvalue => 1 - P01 - P10;

    /// <summary>P(up at step n | up at step 0) = π0 + π1·(1 − p01 − p10)^n.</summary>
    public double UpProbabilityFromUp(int steps) => SteadyStateAvailability + SteadyStateUnavailability * Math.Pow(Eigenvalue, steps);

    /// <summary>P(up at step n | down at step 0) = π0 − π0·(1 − p01 − p10)^n.</summary>
    public double UpProbabilityFromDown(int steps) => SteadyStateAvailability * (1 - Math.Pow(Eigenvalue, steps));

    /// <summary>Mean number of consecutive up steps, 1 / p01 (+∞ when p01 = 0).</summary>
    public double MeanUpSteps => P01 > 0 ? 1 / P01 : double.PositiveInfinity;

    /// <summary>Mean number of consecutive down steps, 1 / p10 (+∞ when p10 = 0).</summary>
    public double MeanDownSteps => P10 > 0 ? 1 / P10 : double.PositiveInfinity;

    public DiscreteTimeMarkovChain ToChain() =>
        new(new[,] { { 1 - P01, P01 }, { P10, 1 - P10 } }, ["up", "down"]);
}
