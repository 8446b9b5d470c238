namespace Bulwark.Availability.Markov;

/// <summary>
/// The matrix exponential e^{Qt} of a generator by uniformization, robust over long horizons.
/// <para>
/// Uniformization writes e^{Qt} = Σ_k Poisson(k; Λt)·P^k with P = I + Q/Λ and Λ ≥ every exit rate. Every term is
/// nonnegative, so nothing cancels, but the first weight e^{−Λt} underflows to zero once Λt exceeds about 745 (a
/// one-year horizon with a 30-second failover is Λt ≈ 10^6) and the series then needs millions of terms. So the
/// horizon is split into m equal steps h = t/m with Λh ≤ <see cref="MaxStepMean"/>: the step matrix e^{Qh} needs only
/// a few dozen terms whose weights never underflow, and e^{Qt} = (e^{Qh})^m is formed by repeated squaring, again
/// with nonnegative arithmetic only (relative error grows about linearly with m, i.e. ~Λt·n·10^-16).
/// </para>
/// </summary>
internal static class Uniformization
{
    /// <summary>Largest Poisson mean Λh per step; e^{−8} is far from underflow and the tail past ~35 terms is below 1e-18.</summary>
    public const double MaxStepMean = 8;

    /// <summary>Poisson weights below this (relative to a total of 1) are dropped once past the mode.</summary>
    private const double TailCutoff = 1e-18;

    public static double[,] Exponential(ContinuousTimeMarkovChain chain, double time)
    {
        if (!double.IsFinite(time) || time < 0)
        {
            throw new AvailabilityInputException("time", $"time {time} must be finite and ≥ 0");
        }

        int n = chain.StateCount;
        double lambda = 0;
        for (int i = 0; i < n; i++)
        {
            lambda = Math.Max(lambda, chain.ExitRate(i));
        }

        if (lambda == 0 || time == 0)
        {
            return Identity(n);
        }

        double totalMean = lambda * time;
        double stepsExact = Math.Ceiling(totalMean / MaxStepMean);
        if (stepsExact > long.MaxValue / 2)
        {
            throw new AvailabilityInputException("time", $"horizon {time} is too long for rates up to {lambda} (Λt = {totalMean})");
        }

        long steps = Math.Max(1, (long)stepsExact);
        double mean = totalMean / steps;

        var p = new double[n, n];
        var rates = chain.OffDiagonalRates;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                p[i, j] = i == j ? (lambda - chain.ExitRate(i)) / lambda : rates[i, j] / lambda;
            }
        }

        var stepMatrix = PoissonSeries(p, mean);
        return Power(stepMatrix, steps);
    }

    private static double[,] PoissonSeries(double[,] p, double mean)
    {
        int n = p.GetLength(0);
        double weight = Math.Exp(-mean);
        var term = Identity(n);
        var sum = Identity(n);
        Scale(sum, weight);
        for (int k = 1; ; k++)
        {
            term = Multiply(term, p);
            weight *= mean / k;
            AddScaled(sum, term, weight);
            if (k >= mean && weight < TailCutoff)
            {
                NormalizeRows(sum);
                return sum;
            }
        }
    }

    private static double[,] Power(double[,] m, long exponent)
    {
        double[,]? result = null;
        var b = m;
        while (true)
        {
            if ((exponent & 1) != 0)
            {
                result = result is null ? b : NormalizeRows(Multiply(result, b));
            }

            exponent >>= 1;
            if (exponent == 0)
            {
                return result!;
            }

            b = NormalizeRows(Multiply(b, b));
        }
    }

    internal static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0);
        var r = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                double aik = a[i, k];
                if (aik == 0)
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    r[i, j] += aik * b[k, j];
                }
            }
        }

        return r;
    }

    /// <summary>
    /// Rescales each row to sum to 1. Products of stochastic matrices are stochastic; without this, the truncated
    /// Poisson tail and rounding would leak about n·10^-16 of probability mass per product, which over 10^6 steps
    /// shows in the 10th digit of an availability near 1.
    /// </summary>
    private static double[,] NormalizeRows(double[,] m)
    {
        int n = m.GetLength(0);
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                sum += m[i, j];
            }

            if (sum > 0)
            {
                for (int j = 0; j < n; j++)
                {
                    m[i, j] /= sum;
                }
            }
        }

        return m;
    }

    private static double[,] Identity(int n)
    {
        var r = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            r[i, i] = 1;
        }

        return r;
    }

    private static void Scale(double[,] m, double s)
    {
        int n = m.GetLength(0);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                m[i, j] *= s;
            }
        }
    }

    private static void AddScaled(double[,] target, double[,] m, double s)
    {
        int n = m.GetLength(0);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                target[i, j] += s * m[i, j];
            }
        }
    }
}
