namespace Bulwark.Cli.Supervision;

/// <summary>
/// Decides, for one child, whether and when to restart it after it exits. Pure apart from the clock, so tests drive it
/// with a fake <see cref="TimeProvider"/>. Exponential backoff between consecutive crashes; a run longer than
/// <see cref="RestartPolicyOptions.StableAfter"/> resets it; <see cref="RestartPolicyOptions.CrashLoopLimit"/> crashes within
/// <see cref="RestartPolicyOptions.CrashLoopWindow"/> ends the restarts with a reason an operator can act on.
/// </summary>
public sealed class RestartPolicy
{
    private readonly RestartPolicyOptions options;
    private readonly TimeProvider time;
    private readonly Queue<DateTimeOffset> recentCrashes = new();
    private DateTimeOffset startedAt;
    private int consecutiveCrashes;

    public RestartPolicy(RestartPolicyOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        startedAt = time.GetUtcNow();
    }

    public int CrashesInWindow => recentCrashes.Count;

    public void OnStarted() => startedAt = time.GetUtcNow();

    public RestartDecision OnExited(int exitCode)
    {
        var now = time.GetUtcNow();
        if (exitCode == 0)
        {
            return RestartDecision.GiveUp("exited on its own with code 0; not restarting it");
        }

        if (exitCode == Commands.ServeCommand.ExitRemoved)
        {
            // Its data dir belongs to a member the cluster no longer has: every restart would exit the same way.
            return RestartDecision.GiveUp(
                $"exited with code {exitCode}: it was removed from the cluster; not restarting it (wipe its data dir and `member add` it to bring it back)");
        }

        if (now - startedAt >= options.StableAfter)
        {
            consecutiveCrashes = 0;
        }

        recentCrashes.Enqueue(now);
        while (recentCrashes.Count > 0 && now - recentCrashes.Peek() > options.CrashLoopWindow)
        {
            recentCrashes.Dequeue();
        }

        if (recentCrashes.Count >= options.CrashLoopLimit)
        {
            return RestartDecision.GiveUp(
                $"crashed {recentCrashes.Count} times within {options.CrashLoopWindow.TotalSeconds:0.#} s (last exit code {exitCode}); " +
                "not restarting it: see its output above for the cause");
        }

        var delay = TimeSpan.FromTicks(Math.Min(options.MaxBackoff.Ticks, options.InitialBackoff.Ticks << Math.Min(consecutiveCrashes, 30)));
        consecutiveCrashes++;
        return RestartDecision.After(delay);
    }
}
