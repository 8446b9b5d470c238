namespace Bulwark.Verification;

/// <summary>
/// Limits on the search. Linearizability checking is NP-complete in general; with a budget the checker answers
/// <see cref="CheckVerdict.Unknown"/> instead of running for ever on a pathological history.
/// </summary>
public sealed record CheckBudget
{
    /// <summary>At most this many search steps over all partitions (a step = one attempt to linearize a call).</summary>
    public long MaxSteps { get; init; } = long.MaxValue;

    /// <summary>At most this much elapsed time (measured with <see cref="TimeProvider"/>); null = no limit.</summary>
    public TimeSpan? MaxTime { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public static CheckBudget Unlimited { get; } = new();
}
