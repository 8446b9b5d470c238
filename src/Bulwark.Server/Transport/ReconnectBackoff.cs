namespace Bulwark.Server.Transport;

/// <summary>
/// Exponential backoff with "equal jitter": the n-th delay is uniform in [d/2, d] where d = min(max, base * 2^n).
/// Jitter keeps the nodes of a cluster from redialing a restarted peer in lockstep.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
{
    private int attempt;

    public TimeSpan Next()
    {
        var ceiling = Math.Min(maxDelay.Ticks, baseDelay.Ticks * (1L << Math.Min(attempt, 30)));
        attempt++;
        var half = ceiling / 2;
        return TimeSpan.FromTicks(half + (long)(random.NextDouble() * (ceiling - half)));
    }

    public void Reset() => attempt = 0;
}
