namespace Bulwark.TestSupport;

/// <summary>
/// The one deadline-bounded wait the tests use instead of fixed sleeps: ask a condition again and again until it holds
/// or the deadline passes, then fail with what was awaited, the last transient error and the caller's diagnostics
/// (usually the cluster's logs). Polling is the only place a test waits on the clock, and it never decides an outcome:
/// a condition that holds is seen at once; one that never holds fails after the (generous) patience.
/// </summary>
public static class Eventually
{
    /// <summary>Default patience: generous, because CI is a loaded 2-core machine.</summary>
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Waits until <paramref name="probe"/> returns a non-null value and returns it.</summary>
    /// <param name="probe">Asked until it answers; throwing an exception that <paramref name="transient"/> accepts means "not yet".</param>
    /// <param name="what">What is awaited, for the failure message ("n2 to serve a linearizable read").</param>
    /// <param name="patience">How long to wait; <see cref="DefaultPatience"/> when null.</param>
    /// <param name="transient">Which exceptions mean "ask again" (a member restarting, a call that timed out); none when null.</param>
    /// <param name="diagnostics">Appended to the failure message, e.g. the processes' logs.</param>
    public static async Task<T> ValueAsync<T>(
        Func<Task<T?>> probe,
        string what,
        TimeSpan? patience = null,
        Func<Exception, bool>? transient = null,
        Func<string>? diagnostics = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        var limit = patience ?? DefaultPatience;
        var deadline = DateTime.UtcNow + limit;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe().ConfigureAwait(false) is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (transient is not null && transient(e))
            {
                last = e;
            }

            if (DateTime.UtcNow > deadline)
            {
                var because = last is null ? "" : $" (last error: {last.GetType().Name}: {last.Message})";
                var details = diagnostics is null ? "" : Environment.NewLine + diagnostics();
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0} s waiting for: {what}{because}{details}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    public static Task TrueAsync(
        Func<Task<bool>> condition,
        string what,
        TimeSpan? patience = null,
        Func<Exception, bool>? transient = null,
        Func<string>? diagnostics = null,
        CancellationToken cancellationToken = default) =>
        ValueAsync(async () => await condition().ConfigureAwait(false) ? Held : null, what, patience, transient, diagnostics, cancellationToken);

    /// <summary>Waits until the synchronous <paramref name="condition"/> holds.</summary>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? patience = null, Func<string>? diagnostics = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, patience, transient: null, diagnostics);

    private static readonly object Held = new();
}
