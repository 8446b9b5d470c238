using Bulwark.Availability.Cluster;
using Bulwark.Availability.Markov;

namespace Bulwark.Availability.Estimation;

/// <summary>Rates estimated from a log, the model's prediction from them, and the measured availability beside it.</summary>
public sealed record AvailabilityEstimate(
    ObservedHistory Observed,
    RateEstimate FailureRate,
    RateEstimate? RepairRate,
    double? RepairRateGiven,
    double StepHours,
    double? P01,
    double? P10,
    PredictedAvailability? Prediction,
    Verdict Verdict,
    string VerdictText)
{
    public static AvailabilityEstimate From(ObservedHistory observed, EstimationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observed);
        options ??= new EstimationOptions();
        if (!double.IsFinite(options.StepHours) || options.StepHours <= 0)
        {
            throw new AvailabilityInputException("step", $"step is {options.StepHours} h; it must be a finite number > 0");
        }

        if (options.RepairRateOverride is { } given && (!double.IsFinite(given) || given <= 0))
        {
            throw new AvailabilityInputException("repairRate", $"repairRate (μ) is {given}; it must be a finite number > 0");
        }

        var lambda = RateEstimate.TimeTruncated(observed.Failures, observed.UpHours, options.Confidence);
        RateEstimate? mu = observed.DownHours > 0 && observed.Repairs > 0
            ? RateEstimate.TimeTruncated(observed.Repairs, observed.DownHours, options.Confidence)
            : null;

        double? muPoint = options.RepairRateOverride ?? mu?.Rate;
        if (muPoint is null)
        {
            string why = observed.Failures == 0
                ? "the log shows no node failure, so the repair rate cannot be estimated; give the MTTR to get a prediction"
                : "the log shows no completed repair, so the repair rate cannot be estimated; give the MTTR to get a prediction";
            return new AvailabilityEstimate(observed, lambda, mu, null, options.StepHours, null, null, null, Verdict.NoPrediction, why);
        }

        var unit = new TwoStateProcess(lambda.Rate, muPoint.Value);
        var prediction = Predict(observed, options, lambda, mu, muPoint.Value);
        var (verdict, text) = Judge(observed, prediction, options.Confidence);
        return new AvailabilityEstimate(
            observed, lambda, mu, options.RepairRateOverride, options.StepHours,
            unit.P01(options.StepHours), unit.P10(options.StepHours), prediction, verdict, text);
    }

    private static PredictedAvailability Predict(ObservedHistory observed, EstimationOptions options, RateEstimate lambda, RateEstimate? mu, double muPoint)
    {
        // Each rate's interval at 1 − α/2 so both hold together with probability ≥ 1 − α.
        double perRate = 1 - ((1 - options.Confidence) / 2);
        var lambdaWide = RateEstimate.TimeTruncated(lambda.Events, lambda.ExposureHours, perRate);
        var muWide = options.RepairRateOverride is null && mu is not null
            ? RateEstimate.TimeTruncated(mu.Events, mu.ExposureHours, perRate)
            : null;
        double muLow = muWide?.Lower ?? muPoint;
        double muHigh = muWide?.Upper ?? muPoint;

        var point = Solve(observed, options, lambda.Rate, muPoint);
        var corners = new[]
        {
            Solve(observed, options, lambdaWide.Lower, muLow),
            Solve(observed, options, lambdaWide.Lower, muHigh),
            Solve(observed, options, lambdaWide.Upper, muLow),
            Solve(observed, options, lambdaWide.Upper, muHigh),
        };
        return new PredictedAvailability(
            point.Availability,
            point.Unavailability,
            Math.Min(point.Availability, corners.Min(c => c.Availability)),
            Math.Max(point.Availability, corners.Max(c => c.Availability)),
            Math.Min(point.Unavailability, corners.Min(c => c.Unavailability)),
            Math.Max(point.Unavailability, corners.Max(c => c.Unavailability)),
            point.FailureFrequencyPerHour,
            point.MeanUpTimeHours,
            point.MeanDownTimeHours);
    }

    private static (double Availability, double Unavailability, double FailureFrequencyPerHour, double MeanUpTimeHours, double MeanDownTimeHours) Solve(
        ObservedHistory observed, EstimationOptions options, double lambda, double mu)
    {
        if (lambda == 0)
        {
            // No failures at all: never down.
            return (1, 0, 0, double.PositiveInfinity, 0);
        }

        var result = ClusterAvailability.Analyze(new ClusterDescription(
            observed.Nodes, lambda, mu, observed.Quorum, options.RepairCrews, options.Failover, options.CommonCauseBeta));
        return (result.Availability, result.Unavailability, result.FailureFrequencyPerHour, result.MeanUpTimeHours, result.MeanDownTimeHours);
    }

    private static (Verdict, string) Judge(ObservedHistory observed, PredictedAvailability p, double confidence)
    {
        double measured = observed.MeasuredAvailability;
        string range = $"[{p.AvailabilityLower:0.#########}, {p.AvailabilityUpper:0.#########}]";
        string fewFailures = observed.Failures < 5
            ? $" Only {observed.Failures} node failure(s) were observed, so the interval is wide."
            : "";
        if (measured >= p.AvailabilityLower && measured <= p.AvailabilityUpper)
        {
            return (Verdict.Consistent, $"Consistent: the measured availability {measured:0.#########} lies inside the predicted interval {range}.{fewFailures}");
        }

        double expectedOutages = p.OutagesPerHour * observed.WindowHours;
        if (observed.QuorumLosses == 0)
        {
            double chanceOfNone = Math.Exp(-expectedOutages);
            if (chanceOfNone >= (1 - confidence) / 2)
            {
                return (Verdict.Consistent,
                    $"Consistent: no quorum loss was observed in {observed.WindowHours:0.#} h; the model expects {expectedOutages:0.###} outage(s) in a window this long, " +
                    $"so seeing none has probability {chanceOfNone:0.###}. A longer log is needed to test the prediction more sharply.{fewFailures}");
            }
        }

        if (measured < p.AvailabilityLower)
        {
            return (Verdict.WorseThanPredicted,
                $"Worse than predicted: the measured availability {measured:0.#########} is below the predicted interval {range} " +
                $"({observed.QuorumLosses} quorum loss(es) observed where {expectedOutages:0.###} were expected). Independent node failures do not explain it: " +
                "look for correlated failures (common cause), slow failovers or repairs that wait for each other.");
        }

        return (Verdict.BetterThanPredicted,
            $"Better than predicted: the measured availability {measured:0.#########} is above the predicted interval {range} " +
            $"({observed.QuorumLosses} quorum loss(es) observed where {expectedOutages:0.###} were expected); the model is pessimistic for this cluster, " +
            $"or node failures tend to avoid overlapping.{fewFailures}");
    }
}
