namespace Bulwark.Server.Health;

/// <summary>What a leader watches of its own health (docs/consensus.md, "Gray failures").</summary>
public enum HealthMetric
{
    /// <summary>Milliseconds one WAL sync took (followers sync too, so the baseline is learned before leading).</summary>
    FsyncMs,

    /// <summary>Entries handed to the apply worker and not yet applied, sampled every tick.</summary>
    ApplyLag,

    /// <summary>Heartbeat round trip in milliseconds to the nearest follower (min over followers of each one's median).</summary>
    PeerRoundTripMs,

    /// <summary>Messages waiting in the send queue to the least backed-up follower (min over followers of each one's median).</summary>
    SendQueue,
}

/// <summary>One metric of a degraded window: its value, its baseline, and the threshold it crossed.</summary>
public sealed record MetricDegradation(HealthMetric Metric, double Value, double BaselineMedian, double BaselineMad, double Threshold)
{
    public override string ToString() => FormattableString.Invariant(
        $"{Name(Metric)} {Value:F1} > {Threshold:F1} (baseline median {BaselineMedian:F1}, MAD {BaselineMad:F1})");

    /// <summary>The metric's name in journal fields and reasons.</summary>
    public static string Name(HealthMetric metric) => metric switch
    {
        HealthMetric.FsyncMs => "fsync_ms",
        HealthMetric.ApplyLag => "apply_lag",
        HealthMetric.PeerRoundTripMs => "peer_rtt_ms",
        HealthMetric.SendQueue => "send_queue",
        _ => metric.ToString(),
    };
}
