using MathNet.Numerics;

namespace Bulwark.Availability.Markov;

/// <summary>
/// The two-state continuous-time model of one repairable unit: up → down at rate λ, down → up at rate μ.
/// Closed forms: A = μ/(λ+μ); A(t | up at 0) = μ/(λ+μ) + λ/(λ+μ)·e^{−(λ+μ)t}. Sampling it every Δ hours gives the
/// two-state discrete chain with p01 = λ/(λ+μ)·(1 − e^{−(λ+μ)Δ}) and p10 = μ/(λ+μ)·(1 − e^{−(λ+μ)Δ}).
/// </summary>
public sealed record TwoStateProcess
{
    public TwoStateProcess(double failureRate, double repairRate)
    {
        if (!double.IsFinite(failureRate) || failureRate < 0)
        {
            throw new AvailabilityInputException("failureRate", $"failureRate (λ) is {failureRate}; it must be a finite number ≥ 0");
        }

        if (!double.IsFinite(repairRate) || repairRate < 0)
        {
            throw new AvailabilityInputException("repairRate", $"repairRate (μ) is {repairRate}; it must be a finite number ≥ 0");
        }

        if (failureRate + repairRate == 0)
        {
            throw new AvailabilityInputException("failureRate", "failureRate and repairRate are both 0: the unit never changes state");
        }

        FailureRate = failureRate;
        RepairRate = repairRate;
    }

    public double FailureRate { get; }

    public double RepairRate { get; }

    private double Total => FailureRate + RepairRate;

    public double SteadyStateAvailability => RepairRate / Total;

    public double SteadyStateUnavailability => FailureRate / Total;

    /// <summary>A(t) for a unit up at time 0.</summary>
    public double PointAvailabilityFromUp(double time) => SteadyStateAvailability + (SteadyStateUnavailability * Math.Exp(-Total * time));

    /// <summary>Probability of being down after <paramref name="stepHours"/> given up now.</summary>
    public double P01(double stepHours) => SteadyStateUnavailability * ForgottenFraction(stepHours);

    /// <summary>Probability of being up after <paramref name="stepHours"/> given down now.</summary>
    public double P10(double stepHours) => SteadyStateAvailability * ForgottenFraction(stepHours);

    /// <summary>The two-state discrete chain obtained by looking at the unit every <paramref name="stepHours"/> hours.</summary>
    public TwoStateChain Sampled(double stepHours) => new(P01(stepHours), P10(stepHours));

    /// <summary>1 − e^{−(λ+μ)Δ}, via expm1 so a short step keeps its digits.</summary>
    private double ForgottenFraction(double stepHours)
    {
        if (!double.IsFinite(stepHours) || stepHours <= 0)
        {
            throw new AvailabilityInputException("step", $"step is {stepHours} h; it must be a finite number > 0");
        }

        return -SpecialFunctions.Expm1(-Total * stepHours);
    }
}
