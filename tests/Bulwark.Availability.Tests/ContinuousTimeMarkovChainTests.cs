using Bulwark.Availability.Markov;
using Bulwark.Availability.Tests.Exact;

namespace Bulwark.Availability.Tests;

public sealed class ContinuousTimeMarkovChainTests
{
    private const double Lambda = 1e-3;
    private const double Mu = 1;

    private static ContinuousTimeMarkovChain TwoState(double lambda, double mu) =>
        ContinuousTimeMarkovChain.FromGenerator(new[,] { { -lambda, lambda }, { mu, -mu } });

    [Fact]
    public void Two_state_transient_at_one_hour_matches_closed_form()
    {
        var a = TwoState(Lambda, Mu).Transient(new[] { 1.0, 0.0 }, 1.0)[0];
        Close.Relative(0.999368143602, a, 1e-12);
        double closedForm = (Mu / (Lambda + Mu)) + (Lambda / (Lambda + Mu) * Math.Exp(-(Lambda + Mu)));
        Close.Relative(closedForm, a, 1e-14);
        Close.Relative(closedForm, new TwoStateProcess(Lambda, Mu).PointAvailabilityFromUp(1), 1e-15);
    }

    [Fact]
    public void Two_state_transient_curve_matches_closed_form_at_every_point()
    {
        var chain = TwoState(Lambda, Mu);
        var times = Enumerable.Range(0, 50).Select(i => i * 0.25).ToArray();
        var curve = chain.Transient(new[] { 1.0, 0.0 }, times);
        for (int i = 0; i < times.Length; i++)
        {
            double q = Lambda / (Lambda + Mu) * (1 - Math.Exp(-(Lambda + Mu) * times[i]));
            Assert.Equal(1.0, curve[i][0] + curve[i][1], 14);
            if (i > 0)
            {
                Close.Relative(q, curve[i][1], 1e-12);
            }
        }
    }

    [Fact]
    public void One_year_horizon_with_a_fast_inner_loop_does_not_underflow()
    {
        // Up splits into two sub-states swapping 1000 times an hour, so the uniformization rate is ~1000/h and
        // Λt ≈ 8.8e6 over a year: e^{-Λt} underflows, so a single series would return zeros. Aggregated, the chain
        // is the two-state model with λ = 1e-4 and μ = 1e-3, whose transient is still visible after a year.
        const double lambda = 1e-4;
        const double mu = 1e-3;
        const double year = 8766;
        var chain = ContinuousTimeMarkovChain.FromRates(3, new[]
        {
            new Transition(0, 1, 1000), new Transition(1, 0, 1000),
            new Transition(0, 2, lambda), new Transition(1, 2, lambda),
            new Transition(2, 0, mu),
        });
        var p = chain.Transient(new[] { 1.0, 0.0, 0.0 }, year);
        double down = lambda / (lambda + mu) * (1 - Math.Exp(-(lambda + mu) * year));
        Close.Relative(down, p[2], 1e-9);
        Close.Relative(1 - down, p[0] + p[1], 1e-9);
    }

    [Fact]
    public void Steady_state_matches_exact_solution_of_a_stiff_chain()
    {
        // Rates spanning nine orders of magnitude.
        var exact = new ExactChain(4)
            .Add(0, 1, Rational.Of(3, 1_000_000)).Add(1, 2, Rational.Of(2, 1_000_000)).Add(2, 3, Rational.Of(1, 1_000_000))
            .Add(1, 0, 1000).Add(2, 1, 2000).Add(3, 2, 3000).Add(2, 0, Rational.Of(1, 10));
        var chain = ContinuousTimeMarkovChain.FromRates(4, new[]
        {
            new Transition(0, 1, 3e-6), new Transition(1, 2, 2e-6), new Transition(2, 3, 1e-6),
            new Transition(1, 0, 1000), new Transition(2, 1, 2000), new Transition(3, 2, 3000), new Transition(2, 0, 0.1),
        });
        var expected = exact.SteadyState();
        var pi = chain.SteadyState();
        for (int i = 0; i < 4; i++)
        {
            Close.Relative(expected[i].ToDouble(), pi[i], 1e-12);
        }

        Assert.True(pi[3] < 1e-25);
    }

    [Fact]
    public void Mean_time_to_absorption_matches_fundamental_matrix()
    {
        var exact = new ExactChain(4)
            .Add(0, 1, Rational.Of(1, 2)).Add(0, 2, Rational.Of(1, 4))
            .Add(1, 0, 2).Add(1, 2, Rational.Of(1, 3)).Add(1, 3, Rational.Of(1, 5))
            .Add(2, 0, 1).Add(2, 3, Rational.Of(1, 10));
        var expected = exact.MeanTimeTo(new HashSet<int> { 3 });
        var chain = ContinuousTimeMarkovChain.FromRates(4, new[]
        {
            new Transition(0, 1, 0.5), new Transition(0, 2, 0.25),
            new Transition(1, 0, 2), new Transition(1, 2, 1.0 / 3), new Transition(1, 3, 0.2),
            new Transition(2, 0, 1), new Transition(2, 3, 0.1),
        });
        for (int start = 0; start < 3; start++)
        {
            var initial = new double[4];
            initial[start] = 1;
            Close.Relative(expected[start].ToDouble(), chain.MeanTimeToAbsorption(initial, new HashSet<int> { 3 }), 1e-13);
        }

        // A mixed start weighs the per-state times.
        double mixed = chain.MeanTimeToAbsorption(new[] { 0.5, 0.25, 0.0, 0.25 }, new HashSet<int> { 3 });
        Close.Relative((0.5 * expected[0].ToDouble()) + (0.25 * expected[1].ToDouble()), mixed, 1e-13);
    }

    [Fact]
    public void Fundamental_matrix_matches_exact_inverse()
    {
        var exact = new ExactChain(4)
            .Add(0, 1, Rational.Of(1, 2)).Add(0, 2, Rational.Of(1, 4))
            .Add(1, 0, 2).Add(1, 2, Rational.Of(1, 3)).Add(1, 3, Rational.Of(1, 5))
            .Add(2, 0, 1).Add(2, 3, Rational.Of(1, 10));
        var expected = exact.FundamentalMatrix(new HashSet<int> { 3 });
        var chain = ContinuousTimeMarkovChain.FromRates(4, new[]
        {
            new Transition(0, 1, 0.5), new Transition(0, 2, 0.25),
            new Transition(1, 0, 2), new Transition(1, 2, 1.0 / 3), new Transition(1, 3, 0.2),
            new Transition(2, 0, 1), new Transition(2, 3, 0.1),
        });
        var n = chain.Fundamental(new HashSet<int> { 3 });
        Assert.Equal([0, 1, 2], n.TransientStates);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Close.Relative(expected[i, j].ToDouble(), n.ExpectedTime[i, j], 1e-12);
            }
        }

        var tau = exact.MeanTimeTo(new HashSet<int> { 3 });
        Close.Relative(tau[1].ToDouble(), n.MeanTimeToAbsorption()[1], 1e-12);
    }

    [Fact]
    public void Unreachable_absorption_gives_infinite_mean_time()
    {
        var chain = ContinuousTimeMarkovChain.FromRates(3, new[] { new Transition(0, 1, 1), new Transition(1, 0, 1), new Transition(2, 0, 1) });
        Assert.Equal(double.PositiveInfinity, chain.MeanTimeToAbsorption(new[] { 1.0, 0, 0 }, new HashSet<int> { 2 }));
        Assert.Equal("targets", Assert.Throws<AvailabilityInputException>(() => chain.Fundamental(new HashSet<int> { 2 })).Field);
    }

    [Fact]
    public void Generator_validation_names_the_entry()
    {
        var e = Assert.Throws<AvailabilityInputException>(() => ContinuousTimeMarkovChain.FromGenerator(new[,] { { -1.0, 1.0 }, { 2.0, -1.0 } }));
        Assert.Equal("generator[1]", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => ContinuousTimeMarkovChain.FromGenerator(new[,] { { 1.0, -1.0 }, { 2.0, -2.0 } }));
        Assert.Equal("generator[0,1]", e.Field);
        Assert.Contains("negative", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<AvailabilityInputException>(() => ContinuousTimeMarkovChain.FromGenerator(new[,] { { -1.0, double.NaN }, { 2.0, -2.0 } }));
        Assert.Equal("generator[0,1]", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => TwoState(1, 1).Transient(new[] { 0.5, 0.6 }, 1));
        Assert.Equal("initial", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => TwoState(1, 1).Transient(new[] { 1.0, 0.0 }, -1));
        Assert.Equal("time", e.Field);
    }

    [Fact]
    public void Sampled_two_state_process_gives_p01_and_p10()
    {
        var unit = new TwoStateProcess(Lambda, Mu);
        double forget = 1 - Math.Exp(-(Lambda + Mu) * 0.5);
        Close.Relative(Lambda / (Lambda + Mu) * forget, unit.P01(0.5), 1e-14);
        Close.Relative(Mu / (Lambda + Mu) * forget, unit.P10(0.5), 1e-14);
        // The sampled chain has the same steady state as the continuous one.
        Close.Relative(Mu / (Lambda + Mu), unit.Sampled(0.5).SteadyStateAvailability, 1e-14);
    }
}
