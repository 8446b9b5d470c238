namespace Bulwark.Server.Health;

/// <summary>
/// A metric's learned normal: the last <c>capacity</c> healthy window values, summarized by median and MAD (median
/// absolute deviation, scaled by 1.4826 to estimate a standard deviation), which a few outliers do not move.
/// </summary>
public sealed class RobustBaseline
{
    private const double MadToStdDev = 1.4826;
    private readonly Queue<double> values = new();
    private readonly int capacity;

    public RobustBaseline(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
    }

    public int Count => values.Count;

    public void Add(double value)
    {
        values.Enqueue(value);
        while (values.Count > capacity)
        {
            values.Dequeue();
        }
    }

    /// <summary>Median and scaled MAD of the values (0, 0 when empty).</summary>
    public (double Median, double Mad) Stats()
    {
        if (values.Count == 0)
        {
            return (0, 0);
        }

        var median = Median([.. values]);
        var deviations = values.Select(v => Math.Abs(v - median)).ToArray();
        return (median, MadToStdDev * Median(deviations));
    }

    /// <summary>The median of <paramref name="samples"/> (sorted in place; must not be empty).</summary>
    public static double Median(double[] samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Length == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }

        Array.Sort(samples);
        var mid = samples.Length / 2;
        return samples.Length % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
    }
}
