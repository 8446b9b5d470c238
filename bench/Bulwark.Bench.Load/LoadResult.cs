namespace Bulwark.Bench.Load;

/// <summary>Latency percentiles of the successful operations, in milliseconds.</summary>
public sealed record LatencySummary(double Mean, double P50, double P90, double P99, double P999, double Max);

/// <summary>What one measured phase did.</summary>
public sealed record LoadResult
{
    public required string Workload { get; init; }

    public required string Consistency { get; init; }

    public required int Clients { get; init; }

    public required int Connections { get; init; }

    public required int KeySize { get; init; }

    public required int ValueSize { get; init; }

    /// <summary>Target operations per second in open-loop mode; null in closed loop.</summary>
    public double? TargetRate { get; init; }

    /// <summary>Successful operations.</summary>
    public required long Ops { get; init; }

    public required long Errors { get; init; }

    /// <summary>Error count per gRPC status code (or exception type).</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>From the first operation's start until the last in-flight operation ended.</summary>
    public required double ElapsedSeconds { get; init; }

    public double OpsPerSecond => ElapsedSeconds > 0 ? Ops / ElapsedSeconds : 0;

    /// <summary>Latency of successful operations; in open loop measured from the intended send time (no coordinated omission).</summary>
    public required LatencySummary LatencyMs { get; init; }
}
