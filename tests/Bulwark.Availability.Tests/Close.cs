namespace Bulwark.Availability.Tests;

internal static class Close
{
    /// <summary>Asserts |actual − expected| ≤ tolerance·|expected|.</summary>
    public static void Relative(double expected, double actual, double tolerance)
    {
        double error = Math.Abs(actual - expected);
        Assert.True(
            error <= tolerance * Math.Abs(expected),
            $"expected {expected:R}, got {actual:R} (relative error {error / Math.Abs(expected):E2} > {tolerance:E0})");
    }

    /// <summary>Asserts |actual − expected| ≤ tolerance.</summary>
    public static void Absolute(double expected, double actual, double tolerance)
    {
        Assert.True(
            Math.Abs(actual - expected) <= tolerance,
            $"expected {expected:R}, got {actual:R} (absolute error {Math.Abs(actual - expected):E2} > {tolerance:E0})");
    }
}
