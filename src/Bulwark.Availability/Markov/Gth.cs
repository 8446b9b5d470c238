namespace Bulwark.Availability.Markov;

/// <summary>
/// Grassmann–Taksar–Heyman state reduction: the stationary distribution of an irreducible chain computed from its
/// off-diagonal rates (or probabilities) only. No subtraction ever happens, so the result keeps full relative
/// accuracy even for stiff chains whose probabilities span many orders of magnitude (1e-20 down states beside
/// 0.99999 up states), where Gaussian elimination on πQ = 0 loses the small ones.
/// </summary>
internal static class Gth
{
    /// <param name="offDiagonal">Square matrix whose off-diagonal entries are the transition rates or probabilities; the
    /// diagonal is ignored. It is not modified.</param>
    /// <param name="stateName">Names a state for the error raised when the chain is reducible.</param>
    public static double[] Stationary(double[,] offDiagonal, Func<int, string> stateName)
    {
        int n = offDiagonal.GetLength(0);
        if (n == 1)
        {
            return [1.0];
        }

        var a = (double[,])offDiagonal.Clone();
        for (int k = n - 1; k >= 1; k--)
        {
            double s = 0;
            for (int j = 0; j < k; j++)
            {
                s += a[k, j];
            }

            if (!(s > 0))
            {
                throw new AvailabilityInputException(
                    "chain",
                    $"the chain is not irreducible: state {stateName(k)} cannot return to the states before it, so it has no unique steady state");
            }

            for (int i = 0; i < k; i++)
            {
                a[i, k] /= s;
            }

            for (int i = 0; i < k; i++)
            {
                double aik = a[i, k];
                if (aik == 0)
                {
                    continue;
                }

                for (int j = 0; j < k; j++)
                {
                    if (j != i)
                    {
                        a[i, j] += aik * a[k, j];
                    }
                }
            }
        }

        var x = new double[n];
        x[0] = 1;
        double total = 1;
        for (int j = 1; j < n; j++)
        {
            double v = 0;
            for (int i = 0; i < j; i++)
            {
                v += x[i] * a[i, j];
            }

            x[j] = v;
            total += v;
        }

        for (int j = 0; j < n; j++)
        {
            x[j] /= total;
        }

        return x;
    }
}
