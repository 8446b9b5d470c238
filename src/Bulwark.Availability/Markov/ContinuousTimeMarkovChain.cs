using System.Globalization;

namespace Bulwark.Availability.Markov;

/// <summary>
/// A finite continuous-time Markov chain given by its generator Q (rates per unit time; the library uses hours).
/// Off-diagonal entries are transition rates (≥ 0); each diagonal entry is minus its row's off-diagonal sum.
/// Internally only the off-diagonal rates are kept and exit rates are summed from them, so no result depends on
/// a diagonal that lost digits to cancellation.
/// </summary>
public sealed class ContinuousTimeMarkovChain
{
    /// <summary>Relative tolerance for a generator row summing to zero.</summary>
    public const double RowSumTolerance = 1e-9;

    private readonly double[,] rates;
    private readonly double[] exit;
    private readonly string[] names;

    private ContinuousTimeMarkovChain(double[,] offDiagonalRates, string[] names)
    {
        rates = offDiagonalRates;
        this.names = names;
        int n = offDiagonalRates.GetLength(0);
        exit = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++)
            {
                if (j != i)
                {
                    s += offDiagonalRates[i, j];
                }
            }

            exit[i] = s;
        }
    }

    /// <summary>Builds a chain from a full generator matrix, validating that it is one.</summary>
    public static ContinuousTimeMarkovChain FromGenerator(double[,] generator, IReadOnlyList<string>? stateNames = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        int n = generator.GetLength(0);
        if (n == 0)
        {
            throw new AvailabilityInputException("generator", "the generator matrix is empty; it needs at least one state");
        }

        if (generator.GetLength(1) != n)
        {
            throw new AvailabilityInputException("generator", $"the generator must be square, but it is {n}×{generator.GetLength(1)}");
        }

        var names = Names(stateNames, n);
        var rates = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double offSum = 0;
            for (int j = 0; j < n; j++)
            {
                double v = generator[i, j];
                if (!double.IsFinite(v))
                {
                    throw new AvailabilityInputException($"generator[{i},{j}]", $"generator entry Q[{i},{j}] is {Fmt(v)}; it must be a finite number");
                }

                if (j != i)
                {
                    if (v < 0)
                    {
                        throw new AvailabilityInputException(
                            $"generator[{i},{j}]",
                            $"generator entry Q[{i},{j}] = {Fmt(v)} is a negative transition rate; off-diagonal rates must be ≥ 0");
                    }

                    rates[i, j] = v;
                    offSum += v;
                }
            }

            double diag = generator[i, i];
            if (diag > 0)
            {
                throw new AvailabilityInputException($"generator[{i},{i}]", $"generator diagonal Q[{i},{i}] = {Fmt(diag)} is positive; it must be ≤ 0");
            }

            if (Math.Abs(offSum + diag) > RowSumTolerance * Math.Max(1, offSum))
            {
                throw new AvailabilityInputException(
                    $"generator[{i}]",
                    $"row {i} of the generator sums to {Fmt(offSum + diag)}, not 0 (Q[{i},{i}] must equal minus the row's other entries, {Fmt(-offSum)})");
            }
        }

        return new ContinuousTimeMarkovChain(rates, names);
    }

    /// <summary>Builds a chain from a list of transitions; rates between the same pair of states add up.</summary>
    public static ContinuousTimeMarkovChain FromRates(int stateCount, IEnumerable<Transition> transitions, IReadOnlyList<string>? stateNames = null)
    {
        if (stateCount < 1)
        {
            throw new AvailabilityInputException("stateCount", $"a chain needs at least one state, not {stateCount}");
        }

        ArgumentNullException.ThrowIfNull(transitions);
        var rates = new double[stateCount, stateCount];
        foreach (var t in transitions)
        {
            if (t.From < 0 || t.From >= stateCount || t.To < 0 || t.To >= stateCount)
            {
                throw new AvailabilityInputException("transition", $"transition {t.From}→{t.To} names a state outside 0..{stateCount - 1}");
            }

            if (!double.IsFinite(t.Rate) || t.Rate < 0)
            {
                throw new AvailabilityInputException("rate", $"transition {t.From}→{t.To} has rate {Fmt(t.Rate)}; rates must be finite and ≥ 0");
            }

            if (t.From != t.To)
            {
                rates[t.From, t.To] += t.Rate;
            }
        }

        return new ContinuousTimeMarkovChain(rates, Names(stateNames, stateCount));
    }

    public int StateCount => exit.Length;

    public IReadOnlyList<string> StateNames => names;

    /// <summary>The transition rate from one state to another (0 on the diagonal).</summary>
    public double Rate(int from, int to) => from == to ? 0 : rates[from, to];

    /// <summary>Total rate of leaving a state, −Q[i,i].</summary>
    public double ExitRate(int state) => exit[state];

    /// <summary>The generator matrix with its diagonal.</summary>
    public double[,] Generator()
    {
        var q = (double[,])rates.Clone();
        for (int i = 0; i < StateCount; i++)
        {
            q[i, i] = -exit[i];
        }

        return q;
    }

    /// <summary>The steady-state distribution: πQ = 0, Σπ = 1, by GTH state reduction.</summary>
    public double[] SteadyState() => Gth.Stationary(rates, i => names[i]);

    /// <summary>The distribution at time <paramref name="time"/> from <paramref name="initial"/>: initial·e^{Qt}.</summary>
    public double[] Transient(IReadOnlyList<double> initial, double time)
    {
        var v = DiscreteTimeMarkovChain.ValidateDistribution(initial, StateCount);
        var e = Uniformization.Exponential(this, time);
        return Multiply(v, e);
    }

    /// <summary>
    /// Distributions at each of the given times (ascending, ≥ 0), computed step by step; equally spaced times
    /// reuse one step matrix.
    /// </summary>
    public double[][] Transient(IReadOnlyList<double> initial, IReadOnlyList<double> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        var v = DiscreteTimeMarkovChain.ValidateDistribution(initial, StateCount);
        var result = new double[times.Count][];
        double now = 0;
        double cachedStep = double.NaN;
        double[,]? cached = null;
        for (int k = 0; k < times.Count; k++)
        {
            double t = times[k];
            if (!double.IsFinite(t) || t < now)
            {
                throw new AvailabilityInputException("times", $"times must be finite, ≥ 0 and ascending; entry {k} is {Fmt(t)}");
            }

            double step = t - now;
            if (step > 0)
            {
                if (cached is null || Math.Abs(step - cachedStep) > 1e-12 * Math.Max(step, cachedStep))
                {
                    cached = Uniformization.Exponential(this, step);
                    cachedStep = step;
                }

                v = Multiply(v, cached);
            }

            result[k] = v;
            now = t;
        }

        return result;
    }

    /// <summary>
    /// Mean time until the chain first enters one of <paramref name="targets"/>, starting from
    /// <paramref name="initial"/> (mass already in a target counts as time 0). +∞ when some reachable state can
    /// never reach a target.
    /// </summary>
    public double MeanTimeToAbsorption(IReadOnlyList<double> initial, IReadOnlySet<int> targets) =>
        AbsorbingChain.MeanTimeToAbsorption(this, DiscreteTimeMarkovChain.ValidateDistribution(initial, StateCount), targets);

    /// <summary>
    /// The fundamental matrix N = (−Q_TT)^{-1} over the states outside <paramref name="targets"/>: N[i, j] is the
    /// expected time spent in transient state j before absorption, starting from transient state i. Rows and columns
    /// follow <see cref="FundamentalMatrix.TransientStates"/>. Mean times to absorption are its row sums; for those
    /// alone prefer <see cref="MeanTimeToAbsorption"/>, which avoids the elimination's cancellation on stiff chains.
    /// </summary>
    public FundamentalMatrix Fundamental(IReadOnlySet<int> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0 || targets.Any(t => t < 0 || t >= StateCount))
        {
            throw new AvailabilityInputException("targets", $"the absorbing set must be non-empty and name states in 0..{StateCount - 1}");
        }

        var transient = Enumerable.Range(0, StateCount).Where(i => !targets.Contains(i)).ToArray();
        int m = transient.Length;
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(m, m);
        for (int r = 0; r < m; r++)
        {
            for (int c = 0; c < m; c++)
            {
                a[r, c] = r == c ? exit[transient[r]] : -rates[transient[r], transient[c]];
            }
        }

        var reaches = AbsorbingChain.StatesThatReach(this, targets);
        if (transient.FirstOrDefault(i => !reaches[i], -1) is int stuck and >= 0)
        {
            throw new AvailabilityInputException("targets", $"state {names[stuck]} can never reach the absorbing set, so the fundamental matrix does not exist");
        }

        return new FundamentalMatrix(transient, a.LU().Inverse().ToArray());
    }

    internal double[,] OffDiagonalRates => rates;

    internal static double[] Multiply(double[] v, double[,] m)
    {
        int n = v.Length;
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            double vi = v[i];
            if (vi == 0)
            {
                continue;
            }

            for (int j = 0; j < n; j++)
            {
                r[j] += vi * m[i, j];
            }
        }

        return r;
    }

    private static string[] Names(IReadOnlyList<string>? names, int n)
    {
        if (names is not null && names.Count != n)
        {
            throw new AvailabilityInputException("stateNames", $"{names.Count} state names given for {n} states");
        }

        return names?.ToArray() ?? Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    private static string Fmt(double v) => DiscreteTimeMarkovChain.Format(v);
}

/// <summary>The fundamental matrix of an absorbing chain and the transient states its rows and columns stand for.</summary>
public sealed record FundamentalMatrix(IReadOnlyList<int> TransientStates, double[,] ExpectedTime)
{
    /// <summary>Mean time to absorption from each transient state (row sums of N).</summary>
    public double[] MeanTimeToAbsorption()
    {
        int m = TransientStates.Count;
        var tau = new double[m];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++)
            {
                tau[i] += ExpectedTime[i, j];
            }
        }

        return tau;
    }
}

/// <summary>One transition of a continuous-time chain: from → to at a rate per unit time.</summary>
public readonly record struct Transition(int From, int To, double Rate);
