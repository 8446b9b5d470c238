namespace Bulwark.Availability.Estimation;

/// <summary>The model's prediction from estimated rates. The interval combines the rates' own intervals, each taken
/// at confidence 1 − α/2 (Bonferroni), at the four corners; availability falls as λ rises and as μ falls.</summary>
public sealed record PredictedAvailability(
    double Availability,
    double Unavailability,
    double AvailabilityLower,
    double AvailabilityUpper,
    double UnavailabilityLower,
    double UnavailabilityUpper,
    double OutagesPerHour,
    double MeanUpTimeHours,
    double MeanDownTimeHours);
