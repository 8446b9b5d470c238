using MathNet.Numerics.Distributions;

namespace Bulwark.Availability.Estimation;

/// <summary>
/// Maximum-likelihood estimate of an exponential rate from r events in T hours of exposure, with the classical
/// chi-square interval for a time-truncated test: lower χ²(α/2; 2r) / 2T, upper χ²(1 − α/2; 2r + 2) / 2T, where
/// χ²(p; ν) is the p-quantile with ν degrees of freedom and α = 1 − confidence. With r = 0 the lower bound is 0.
/// </summary>
public sealed record RateEstimate(int Events, double ExposureHours, double Confidence, double Rate, double Lower, double Upper)
{
    /// <summary>Mean time between events, 1 / rate (+∞ when no event was seen).</summary>
    public double MeanHours => Rate > 0 ? 1 / Rate : double.PositiveInfinity;

    public static RateEstimate TimeTruncated(int events, double exposureHours, double confidence)
    {
        if (events < 0)
        {
            throw new AvailabilityInputException("events", $"event count is {events}; it must be ≥ 0");
        }

        if (!double.IsFinite(exposureHours) || exposureHours <= 0)
        {
            throw new AvailabilityInputException("exposure", $"exposure time is {exposureHours} h; it must be a finite number > 0");
        }

        if (!double.IsFinite(confidence) || confidence <= 0 || confidence >= 1)
        {
            throw new AvailabilityInputException("confidence", $"confidence is {confidence}; it must be strictly between 0 and 1 (e.g. 0.9)");
        }

        double alpha = 1 - confidence;
        double twoT = 2 * exposureHours;
        double lower = events == 0 ? 0 : ChiSquared.InvCDF(2 * events, alpha / 2) / twoT;
        double upper = ChiSquared.InvCDF((2 * events) + 2, 1 - (alpha / 2)) / twoT;
        return new RateEstimate(events, exposureHours, confidence, events / exposureHours, lower, upper);
    }
}
