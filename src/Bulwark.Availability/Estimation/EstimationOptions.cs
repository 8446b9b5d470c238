using Bulwark.Availability.Cluster;

namespace Bulwark.Availability.Estimation;

/// <summary>How the model's other assumptions are set when rates come from a log.</summary>
/// <param name="Confidence">Two-sided confidence level of the intervals, e.g. 0.9.</param>
/// <param name="StepHours">Step length Δ for the discrete-time p01 / p10.</param>
/// <param name="RepairCrews">As in <see cref="ClusterDescription"/>: null for independent repair.</param>
/// <param name="Failover">As in <see cref="ClusterDescription"/>.</param>
/// <param name="CommonCauseBeta">As in <see cref="ClusterDescription"/>.</param>
/// <param name="RepairRateOverride">Use this μ instead of estimating it (needed when the log shows no repair).</param>
public sealed record EstimationOptions(
    double Confidence = 0.9,
    double StepHours = 1,
    int? RepairCrews = null,
    FailoverModel? Failover = null,
    double CommonCauseBeta = 0,
    double? RepairRateOverride = null);
