namespace Bulwark.Cli.Supervision;

/// <summary>How a crashed child is restarted, and when the supervisor stops trying.</summary>
public sealed record RestartPolicyOptions
{
    /// <summary>Delay before the first restart; it doubles with each consecutive crash up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>This many crashes within <see cref="CrashLoopWindow"/> is a crash loop: the child is not restarted again.</summary>
    public int CrashLoopLimit { get; init; } = 5;

    public TimeSpan CrashLoopWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A child that ran at least this long before crashing starts again from <see cref="InitialBackoff"/>.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (InitialBackoff <= TimeSpan.Zero || MaxBackoff < InitialBackoff)
        {
            throw new ArgumentException("restart backoff must be positive with max >= initial", nameof(MaxBackoff));
        }

        if (CrashLoopLimit < 1)
        {
            throw new ArgumentException("crash-loop limit must be at least 1", nameof(CrashLoopLimit));
        }

        if (CrashLoopWindow <= TimeSpan.Zero || StableAfter <= TimeSpan.Zero)
        {
            throw new ArgumentException("crash-loop window and stable time must be positive", nameof(CrashLoopWindow));
        }
    }
}
