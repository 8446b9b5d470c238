using Bulwark.Availability.Markov;
using Bulwark.Availability.Tests.Exact;

namespace Bulwark.Availability.Tests;

public sealed class DiscreteTimeMarkovChainTests
{
    [Fact]
    public void Two_state_steady_state_is_50_over_51()
    {
        var chain = new TwoStateChain(0.01, 0.5);
        Close.Relative(50.0 / 51.0, chain.SteadyStateAvailability, 1e-15);
        Close.Relative(0.98039216, chain.SteadyStateAvailability, 1e-8);
        var pi = chain.ToChain().SteadyState();
        Close.Relative(50.0 / 51.0, pi[0], 1e-14);
        Close.Relative(1.0 / 51.0, pi[1], 1e-13);
    }

    [Theory]
    [InlineData(1, 0.99)]
    [InlineData(2, 0.9851)]
    [InlineData(3, 0.982699)]
    public void Two_state_up_probability_after_n_steps_from_up(int steps, double expected)
    {
        var twoState = new TwoStateChain(0.01, 0.5);
        Close.Relative(expected, twoState.UpProbabilityFromUp(steps), 1e-13);
        Close.Relative(expected, twoState.ToChain().Distribution(0, steps)[0], 1e-14);
    }

    [Fact]
    public void Two_state_from_down_and_sojourn_times()
    {
        var twoState = new TwoStateChain(0.01, 0.5);
        // P(up at 1 | down at 0) = p10; at 2: p10(1-p01) + (1-p10)p10 = 0.5·0.99 + 0.5·0.5 = 0.745.
        Close.Relative(0.5, twoState.UpProbabilityFromDown(1), 1e-14);
        Close.Relative(0.745, twoState.UpProbabilityFromDown(2), 1e-14);
        Assert.Equal(100, twoState.MeanUpSteps, 10);
        Assert.Equal(2, twoState.MeanDownSteps, 12);
        var sojourn = twoState.ToChain().MeanSojournSteps();
        Close.Relative(100, sojourn[0], 1e-13);
        Close.Relative(2, sojourn[1], 1e-14);
    }

    [Fact]
    public void Three_state_chain_matches_exact_balance_equations()
    {
        // P = [[7/10, 2/10, 1/10], [3/10, 1/2, 1/5], [1/4, 1/4, 1/2]].
        var exact = new ExactChain(3)
            .Add(0, 1, Rational.Of(2, 10)).Add(0, 2, Rational.Of(1, 10))
            .Add(1, 0, Rational.Of(3, 10)).Add(1, 2, Rational.Of(1, 5))
            .Add(2, 0, Rational.Of(1, 4)).Add(2, 1, Rational.Of(1, 4));
        // A DTMC's balance equations πP = π are π(P − I) = 0: the same as a CTMC with rates P[i,j], i ≠ j.
        var expected = exact.SteadyState();
        var chain = new DiscreteTimeMarkovChain(new[,] { { 0.7, 0.2, 0.1 }, { 0.3, 0.5, 0.2 }, { 0.25, 0.25, 0.5 } });
        var pi = chain.SteadyState();
        for (int i = 0; i < 3; i++)
        {
            Close.Relative(expected[i].ToDouble(), pi[i], 1e-14);
            Close.Relative(1 / expected[i].ToDouble(), chain.MeanRecurrenceSteps()[i], 1e-13);
        }

        Close.Relative(1 / 0.3, chain.MeanSojournSteps()[0], 1e-14);
        Close.Relative(2, chain.MeanSojournSteps()[1], 1e-14);
    }

    [Fact]
    public void N_step_distribution_converges_to_steady_state()
    {
        var chain = new DiscreteTimeMarkovChain(new[,] { { 0.7, 0.2, 0.1 }, { 0.3, 0.5, 0.2 }, { 0.25, 0.25, 0.5 } });
        var after = chain.Distribution(new[] { 0.0, 0.0, 1.0 }, 200);
        var pi = chain.SteadyState();
        for (int i = 0; i < 3; i++)
        {
            Close.Absolute(pi[i], after[i], 1e-14);
        }

        // Two steps from state 2 by hand: row 2 of P².
        var two = chain.Distribution(2, 2);
        Close.Relative((0.25 * 0.7) + (0.25 * 0.3) + (0.5 * 0.25), two[0], 1e-14);
        Close.Relative((0.25 * 0.2) + (0.25 * 0.5) + (0.5 * 0.25), two[1], 1e-14);
    }

    [Fact]
    public void Row_that_does_not_sum_to_one_is_named()
    {
        var e = Assert.Throws<AvailabilityInputException>(() => new DiscreteTimeMarkovChain(new[,] { { 0.9, 0.1 }, { 0.5, 0.4 } }));
        Assert.Equal("matrix[1]", e.Field);
        Assert.Contains("row 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("not stochastic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entry_outside_unit_interval_is_named()
    {
        var e = Assert.Throws<AvailabilityInputException>(() => new DiscreteTimeMarkovChain(new[,] { { 1.2, -0.2 }, { 0.5, 0.5 } }));
        Assert.Equal("matrix[0,0]", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => new DiscreteTimeMarkovChain(new[,] { { 0.5, 0.5 }, { -0.1, 1.1 } }));
        Assert.Equal("matrix[1,0]", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => new DiscreteTimeMarkovChain(new double[2, 3]));
        Assert.Equal("matrix", e.Field);
    }

    [Fact]
    public void Two_state_probabilities_are_validated()
    {
        Assert.Equal("p01", Assert.Throws<AvailabilityInputException>(() => new TwoStateChain(-0.1, 0.5)).Field);
        Assert.Equal("p10", Assert.Throws<AvailabilityInputException>(() => new TwoStateChain(0.1, 1.5)).Field);
    }

    [Fact]
    public void Reducible_chain_has_no_unique_steady_state()
    {
        var chain = new DiscreteTimeMarkovChain(new[,] { { 1.0, 0.0 }, { 0.0, 1.0 } });
        var e = Assert.Throws<AvailabilityInputException>(() => chain.SteadyState());
        Assert.Contains("not irreducible", e.Message, StringComparison.Ordinal);
    }
}
