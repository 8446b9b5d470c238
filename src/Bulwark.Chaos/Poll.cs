namespace Bulwark.Chaos;

/// <summary>Asks a condition again every 50 ms until it answers or the patience runs out (null then).</summary>
internal static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    public static async Task<T?> UntilAsync<T>(Func<Task<T?>> probe, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            if (await probe().ConfigureAwait(false) is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                return default;
            }

            await Task.Delay(Interval, cancel).ConfigureAwait(false);
        }
    }

    public static async Task<bool> UntilTrueAsync(Func<Task<bool>> condition, TimeSpan patience, CancellationToken cancel) =>
        await UntilAsync<object>(async () => await condition().ConfigureAwait(false) ? true : null, patience, cancel).ConfigureAwait(false) is not null;
}
