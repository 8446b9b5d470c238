namespace Bulwark.Availability.Markov;

/// <summary>
/// Mean time to absorption (MTTF, mean time to data loss) of a continuous-time chain.
/// <para>
/// The textbook route is the fundamental matrix N = (−Q_TT)^{-1} over the transient states T, with mean times
/// τ = N·1. Solving that system by elimination subtracts nearly equal numbers when repair is much faster than
/// failure (MTTF of 10^12 hours from rates of 10^-6 and 10^3). Instead the absorbing states are merged into one
/// state that restarts the chain from its initial distribution at rate 1. By the renewal-reward theorem the
/// merged state then holds the fraction 1/(τ + 1) of time, so τ = π_T / π_absorbed, and π comes from GTH,
/// which never subtracts. The result equals α·N·1 exactly in exact arithmetic.
/// </para>
/// </summary>
internal static class AbsorbingChain
{
    public static double MeanTimeToAbsorption(ContinuousTimeMarkovChain chain, double[] initial, IReadOnlySet<int> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        int n = chain.StateCount;
        if (targets.Count == 0)
        {
            throw new AvailabilityInputException("targets", "the absorbing set is empty; the mean time to absorption is infinite");
        }

        foreach (int t in targets)
        {
            if (t < 0 || t >= n)
            {
                throw new AvailabilityInputException("targets", $"absorbing state {t} does not exist; states are 0..{n - 1}");
            }
        }

        // States that carry initial mass or can be reached from it without passing through a target.
        var reachable = new bool[n];
        var queue = new Queue<int>();
        double transientMass = 0;
        for (int i = 0; i < n; i++)
        {
            if (initial[i] > 0 && !targets.Contains(i))
            {
                reachable[i] = true;
                transientMass += initial[i];
                queue.Enqueue(i);
            }
        }

        if (transientMass == 0)
        {
            return 0;
        }

        while (queue.Count > 0)
        {
            int i = queue.Dequeue();
            for (int j = 0; j < n; j++)
            {
                if (j != i && !reachable[j] && !targets.Contains(j) && chain.Rate(i, j) > 0)
                {
                    reachable[j] = true;
                    queue.Enqueue(j);
                }
            }
        }

        // Every reachable state must be able to reach a target, else absorption may never happen.
        var reaches = StatesThatReach(chain, targets);

        var index = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (reachable[i])
            {
                if (!reaches[i])
                {
                    return double.PositiveInfinity;
                }

                index.Add(i);
            }
        }

        // Reduced chain: the reachable transient states, then one merged absorbing state that restarts the chain.
        int m = index.Count;
        var rates = new double[m + 1, m + 1];
        for (int a = 0; a < m; a++)
        {
            int i = index[a];
            for (int b = 0; b < m; b++)
            {
                if (a != b)
                {
                    rates[a, b] = chain.Rate(i, index[b]);
                }
            }

            double toTargets = 0;
            foreach (int t in targets)
            {
                toTargets += chain.Rate(i, t);
            }

            rates[a, m] = toTargets;
            rates[m, a] = initial[i] / transientMass;
        }

        var pi = Gth.Stationary(rates, k => k < m ? chain.StateNames[index[k]] : "absorbed");
        double inTransient = 0;
        for (int a = 0; a < m; a++)
        {
            inTransient += pi[a];
        }

        return transientMass * inTransient / pi[m];
    }

    /// <summary>Which states have a path of positive rates into <paramref name="targets"/> (targets included).</summary>
    internal static bool[] StatesThatReach(ContinuousTimeMarkovChain chain, IReadOnlySet<int> targets)
    {
        int n = chain.StateCount;
        var reaches = new bool[n];
        foreach (int t in targets)
        {
            reaches[t] = true;
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = 0; i < n; i++)
            {
                if (reaches[i])
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    if (j != i && reaches[j] && chain.Rate(i, j) > 0)
                    {
                        reaches[i] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }

        return reaches;
    }
}
