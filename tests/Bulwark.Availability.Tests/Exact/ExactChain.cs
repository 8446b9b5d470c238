namespace Bulwark.Availability.Tests.Exact;

/// <summary>
/// A continuous-time chain with exact rational rates, solved by Gaussian elimination over the rationals. This is
/// the tests' independent reference: it shares no code with the library.
/// </summary>
public sealed class ExactChain
{
    private readonly Rational[,] rates;

    public ExactChain(int states)
    {
        rates = new Rational[states, states];
        for (int i = 0; i < states; i++)
        {
            for (int j = 0; j < states; j++)
            {
                rates[i, j] = Rational.Zero;
            }
        }
    }

    public int States => rates.GetLength(0);

    public ExactChain Add(int from, int to, Rational rate)
    {
        rates[from, to] += rate;
        return this;
    }

    /// <summary>Solves πQ = 0 with Σπ = 1.</summary>
    public Rational[] SteadyState()
    {
        int n = States;
        // Unknowns π_0..π_{n-1}; equations: for each column j (all but the last) Σ_i π_i Q[i,j] = 0, plus Σ π = 1.
        var a = new Rational[n, n + 1];
        for (int j = 0; j < n - 1; j++)
        {
            for (int i = 0; i < n; i++)
            {
                a[j, i] = i == j ? -ExitRate(i) : rates[i, j];
            }

            a[j, n] = Rational.Zero;
        }

        for (int i = 0; i < n; i++)
        {
            a[n - 1, i] = Rational.One;
        }

        a[n - 1, n] = Rational.One;
        return Solve(a, n);
    }

    /// <summary>Mean time to reach any of <paramref name="targets"/> from each state (fundamental matrix: (−Q_TT) τ = 1).</summary>
    public Rational[] MeanTimeTo(ISet<int> targets)
    {
        var transient = Enumerable.Range(0, States).Where(i => !targets.Contains(i)).ToArray();
        int m = transient.Length;
        var a = new Rational[m, m + 1];
        for (int r = 0; r < m; r++)
        {
            for (int c = 0; c < m; c++)
            {
                a[r, c] = r == c ? ExitRate(transient[r]) : -rates[transient[r], transient[c]];
            }

            a[r, m] = Rational.One;
        }

        var tau = Solve(a, m);
        var result = new Rational[States];
        for (int i = 0; i < States; i++)
        {
            result[i] = Rational.Zero;
        }

        for (int r = 0; r < m; r++)
        {
            result[transient[r]] = tau[r];
        }

        return result;
    }

    /// <summary>Column j of the fundamental matrix solves (−Q_TT) x = e_j.</summary>
    public Rational[,] FundamentalMatrix(ISet<int> targets)
    {
        var transient = Enumerable.Range(0, States).Where(i => !targets.Contains(i)).ToArray();
        int m = transient.Length;
        var n = new Rational[m, m];
        for (int col = 0; col < m; col++)
        {
            var a = new Rational[m, m + 1];
            for (int r = 0; r < m; r++)
            {
                for (int c = 0; c < m; c++)
                {
                    a[r, c] = r == c ? ExitRate(transient[r]) : -rates[transient[r], transient[c]];
                }

                a[r, m] = r == col ? Rational.One : Rational.Zero;
            }

            var x = Solve(a, m);
            for (int r = 0; r < m; r++)
            {
                n[r, col] = x[r];
            }
        }

        return n;
    }

    public Rational ExitRate(int i)
    {
        var s = Rational.Zero;
        for (int j = 0; j < States; j++)
        {
            if (j != i)
            {
                s += rates[i, j];
            }
        }

        return s;
    }

    public Rational Rate(int i, int j) => rates[i, j];

    private static Rational[] Solve(Rational[,] a, int n)
    {
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            while (a[pivot, col].IsZero)
            {
                pivot++;
            }

            for (int c = 0; c <= n; c++)
            {
                (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            }

            for (int r = 0; r < n; r++)
            {
                if (r == col || a[r, col].IsZero)
                {
                    continue;
                }

                var factor = a[r, col] / a[col, col];
                for (int c = col; c <= n; c++)
                {
                    a[r, c] -= factor * a[col, c];
                }
            }
        }

        var x = new Rational[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = a[i, n] / a[i, i];
        }

        return x;
    }
}
