using System.Globalization;

namespace Bulwark.Availability.Markov;

/// <summary>
/// A finite discrete-time Markov chain: one step moves from state i to state j with probability P[i, j].
/// The matrix is validated on construction (entries in [0, 1], each row summing to 1), and every error names
/// the offending row or entry.
/// </summary>
public sealed class DiscreteTimeMarkovChain
{
    /// <summary>How far a row sum may stray from 1 before the matrix is rejected (decimal input such as 0.1 + 0.2).</summary>
    public const double RowSumTolerance = 1e-9;

    private readonly double[,] p;
    private readonly string[] names;

    public DiscreteTimeMarkovChain(double[,] transitions, IReadOnlyList<string>? stateNames = null)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        int n = transitions.GetLength(0);
        if (n == 0)
        {
            throw new AvailabilityInputException("matrix", "the transition matrix is empty; it needs at least one state");
        }

        if (transitions.GetLength(1) != n)
        {
            throw new AvailabilityInputException(
                "matrix",
                $"the transition matrix must be square, but it is {n}×{transitions.GetLength(1)}");
        }

        if (stateNames is not null && stateNames.Count != n)
        {
            throw new AvailabilityInputException("stateNames", $"{stateNames.Count} state names given for {n} states");
        }

        names = stateNames?.ToArray() ?? Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                double v = transitions[i, j];
                if (!double.IsFinite(v) || v < 0 || v > 1)
                {
                    throw new AvailabilityInputException(
                        $"matrix[{i},{j}]",
                        $"transition probability P[{i},{j}] = {Format(v)} is not in [0, 1] (row {i}, column {j})");
                }

                sum += v;
            }

            if (Math.Abs(sum - 1) > RowSumTolerance)
            {
                throw new AvailabilityInputException(
                    $"matrix[{i}]",
                    $"row {i} of the transition matrix sums to {Format(sum)}, not 1: the matrix is not stochastic");
            }
        }

        p = (double[,])transitions.Clone();
    }

    public int StateCount => p.GetLength(0);

    public IReadOnlyList<string> StateNames => names;

    public double this[int from, int to] => p[from, to];

    /// <summary>The stationary distribution π = πP, Σπ = 1 (GTH; requires one recurrent class).</summary>
    public double[] SteadyState() => Gth.Stationary(p, i => names[i]);

    /// <summary>The distribution after <paramref name="steps"/> steps from <paramref name="initial"/>: initial·P^steps.</summary>
    public double[] Distribution(IReadOnlyList<double> initial, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var v = ValidateDistribution(initial, StateCount);
        int n = StateCount;
        for (int s = 0; s < steps; s++)
        {
            var next = new double[n];
            for (int i = 0; i < n; i++)
            {
                double vi = v[i];
                if (vi == 0)
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    next[j] += vi * p[i, j];
                }
            }

            v = next;
        }

        return v;
    }

    /// <summary>The distribution after <paramref name="steps"/> steps starting with certainty in <paramref name="state"/>.</summary>
    public double[] Distribution(int state, int steps)
    {
        if (state < 0 || state >= StateCount)
        {
            throw new AvailabilityInputException("start", $"start state {state} does not exist; states are 0..{StateCount - 1}");
        }

        var initial = new double[StateCount];
        initial[state] = 1;
        return Distribution(initial, steps);
    }

    /// <summary>
    /// Mean number of consecutive steps spent in each state per visit, 1 / (1 − P[i,i]) (geometric holding time);
    /// +∞ for an absorbing state.
    /// </summary>
    public double[] MeanSojournSteps()
    {
        var result = new double[StateCount];
        for (int i = 0; i < StateCount; i++)
        {
            double leave = 0;
            for (int j = 0; j < StateCount; j++)
            {
                if (j != i)
                {
                    leave += p[i, j];
                }
            }

            // Summing the off-diagonal entries instead of computing 1 − P[i,i] keeps digits when P[i,i] is near 1.
            result[i] = leave > 0 ? 1 / leave : double.PositiveInfinity;
        }

        return result;
    }

    /// <summary>Mean number of steps between successive visits to each state, 1 / π_i (Kac's lemma).</summary>
    public double[] MeanRecurrenceSteps() => SteadyState().Select(p => p > 0 ? 1 / p : double.PositiveInfinity).ToArray();

    internal static double[] ValidateDistribution(IReadOnlyList<double> initial, int n)
    {
        ArgumentNullException.ThrowIfNull(initial);
        if (initial.Count != n)
        {
            throw new AvailabilityInputException("initial", $"the initial distribution has {initial.Count} entries for {n} states");
        }

        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(initial[i]) || initial[i] < 0)
            {
                throw new AvailabilityInputException($"initial[{i}]", $"initial probability of state {i} is {Format(initial[i])}; it must be ≥ 0");
            }

            sum += initial[i];
        }

        if (Math.Abs(sum - 1) > RowSumTolerance)
        {
            throw new AvailabilityInputException("initial", $"the initial distribution sums to {Format(sum)}, not 1");
        }

        return initial.ToArray();
    }

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
