namespace Bulwark.Availability.Estimation;

/// <summary>How the measured availability compares with the prediction.</summary>
public enum Verdict
{
    /// <summary>Measured availability lies inside the predicted interval (or the log is too short to tell them apart).</summary>
    Consistent,

    /// <summary>The cluster did worse than the model allows.</summary>
    WorseThanPredicted,

    /// <summary>The cluster did better than the model allows.</summary>
    BetterThanPredicted,

    /// <summary>No prediction could be made (e.g. no repair observed and none given).</summary>
    NoPrediction,
}
