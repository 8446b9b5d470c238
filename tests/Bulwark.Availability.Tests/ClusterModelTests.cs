using Bulwark.Availability.Cluster;
using Bulwark.Availability.Tests.Exact;

namespace Bulwark.Availability.Tests;

/// <summary>
/// Cluster models against values derived without the library: closed forms, or chains written out state by state
/// below and solved exactly over the rationals. λ = 1/1000 per hour and μ = 1 per hour unless a test says otherwise.
/// </summary>
public sealed class ClusterModelTests
{
    private const double Lambda = 1e-3;
    private const double Mu = 1;
    private static readonly Rational L = Rational.Of(1, 1000);
    private static readonly Rational M = Rational.One;

    [Fact]
    public void Three_nodes_majority_independent_repair_matches_the_issue_vectors()
    {
        var r = ClusterAvailability.Analyze(new ClusterDescription(3, Lambda, Mu));
        var exactU = Rational.Of(3001) / Rational.Of(1001).Pow(3);
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
        Close.Relative(2.992015e-6, r.Unavailability, 1e-6);
        Close.Absolute(0.999997007985, r.Availability, 5e-13);
        Close.Relative(167_500, r.MeanTimeToFailureHours, 1e-12);
        Close.Relative(5 / (6 * Lambda), r.MeanTimeToFailureWithoutRepairHours, 1e-12);
        Close.Relative(833.33, r.MeanTimeToFailureWithoutRepairHours, 1e-5);
        Close.Relative(-Math.Log10(exactU.ToDouble()), r.Nines, 1e-12);
        Close.Relative(exactU.ToDouble() * 8766 * 60, r.DowntimeMinutesPerYear, 1e-12);

        // Outages start only from "1 down" at rate 2λ: f = π1·2λ with π1 = 3ρ/(1+ρ)³, so the mean outage is
        // U/f = ρ(3+ρ)/(6λ) and the mean up period A/f.
        var rho = L / M;
        var pi1 = 3 * rho / (1 + rho).Pow(3);
        var f = pi1 * 2 * L;
        Close.Relative(f.ToDouble(), r.FailureFrequencyPerHour, 1e-12);
        Close.Relative((rho * (3 + rho) / (6 * L)).ToDouble(), r.MeanDownTimeHours, 1e-12);
        Close.Relative(((1 - exactU) / f).ToDouble(), r.MeanUpTimeHours, 1e-12);
        Assert.Equal(4, r.StateCount);
    }

    [Fact]
    public void Three_nodes_majority_one_shared_repair_crew()
    {
        var r = ClusterAvailability.Analyze(new ClusterDescription(3, Lambda, Mu, RepairCrews: 1));
        // π_j ∝ 3!/(3−j)!·ρ^j: 1, 3ρ, 6ρ², 6ρ³.
        var rho = L / M;
        var exactU = (6 * rho.Pow(2) + 6 * rho.Pow(3)) / (1 + 3 * rho + 6 * rho.Pow(2) + 6 * rho.Pow(3));
        Close.Relative(5.988000e-6, r.Unavailability, 1e-6);
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
    }

    [Fact]
    public void Five_nodes_independent_repair_is_binomial()
    {
        var r = ClusterAvailability.Analyze(new ClusterDescription(5, Lambda, Mu));
        var rho = L / M;
        // Independent repair makes nodes independent: P(j down) = C(5,j) ρ^j / (1+ρ)^5; majority is lost at j ≥ 3.
        var exactU = (10 * rho.Pow(3) + 5 * rho.Pow(4) + rho.Pow(5)) / (1 + rho).Pow(5);
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
        Close.Relative(1 - exactU.ToDouble(), r.Availability, 1e-15);

        // MTTF: birth–death to absorption at 3 down, written out and solved exactly.
        var chain = new ExactChain(4)
            .Add(0, 1, 5 * L)
            .Add(1, 2, 4 * L).Add(1, 0, M)
            .Add(2, 3, 3 * L).Add(2, 1, 2 * M);
        var mttf = chain.MeanTimeTo(new HashSet<int> { 3 })[0];
        Close.Relative(mttf.ToDouble(), r.MeanTimeToFailureHours, 1e-12);
        // Without repair: 1/(5λ) + 1/(4λ) + 1/(3λ).
        Close.Relative((1.0 / 5 + 1.0 / 4 + 1.0 / 3) / Lambda, r.MeanTimeToFailureWithoutRepairHours, 1e-12);
    }

    [Fact]
    public void Five_nodes_with_one_and_two_repair_crews()
    {
        var rho = L / M;
        // One crew: π_j ∝ 5!/(5−j)!·ρ^j.
        Rational[] weights = [1, 5 * rho, 20 * rho.Pow(2), 60 * rho.Pow(3), 120 * rho.Pow(4), 120 * rho.Pow(5)];
        var total = weights.Aggregate(Rational.Zero, (a, b) => a + b);
        var exactShared = (weights[3] + weights[4] + weights[5]) / total;
        var shared = ClusterAvailability.Analyze(new ClusterDescription(5, Lambda, Mu, RepairCrews: 1));
        Close.Relative(exactShared.ToDouble(), shared.Unavailability, 1e-12);

        // Two crews: repair rate min(j, 2)·μ.
        var two = new ExactChain(6);
        for (int j = 0; j < 5; j++)
        {
            two.Add(j, j + 1, (5 - j) * L);
            two.Add(j + 1, j, Math.Min(j + 1, 2) * M);
        }

        var pi = two.SteadyState();
        var exactTwo = pi[3] + pi[4] + pi[5];
        var twoCrews = ClusterAvailability.Analyze(new ClusterDescription(5, Lambda, Mu, RepairCrews: 2));
        Close.Relative(exactTwo.ToDouble(), twoCrews.Unavailability, 1e-12);
        Assert.True(twoCrews.Unavailability < shared.Unavailability);
    }

    [Fact]
    public void Two_of_five_quorum()
    {
        var rho = L / M;
        var exactU = (5 * rho.Pow(4) + rho.Pow(5)) / (1 + rho).Pow(5);
        var r = ClusterAvailability.Analyze(new ClusterDescription(5, Lambda, Mu, Quorum: 2));
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
    }

    [Fact]
    public void Stiff_five_node_unavailability_keeps_its_digits()
    {
        // λ = 1e-6, μ = 10: U ≈ 10·1e-21; computing it as 1 − A would return 0.
        var l = Rational.Of(1, 1_000_000);
        var rho = l / 10;
        var exactU = (10 * rho.Pow(3) + 5 * rho.Pow(4) + rho.Pow(5)) / (1 + rho).Pow(5);
        var r = ClusterAvailability.Analyze(new ClusterDescription(5, 1e-6, 10));
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-11);
        Assert.Equal(1.0, r.Availability);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2)]
    [InlineData(8766)]
    public void Five_node_transient_matches_independent_nodes(double hours)
    {
        // Independent repair: each node is its own two-state process, down at t with
        // q(t) = λ/(λ+μ)(1 − e^{−(λ+μ)t}); the cluster is down when at least 3 are.
        double q = Lambda / (Lambda + Mu) * (1 - Math.Exp(-(Lambda + Mu) * hours));
        double p = 1 - q;
        double down = (10 * Math.Pow(q, 3) * p * p) + (5 * Math.Pow(q, 4) * p) + Math.Pow(q, 5);
        var model = ClusterModel.Build(new ClusterDescription(5, Lambda, Mu));
        var u = ClusterAvailability.PointUnavailability(model, new[] { hours })[0];
        Close.Relative(down, u, 1e-10);
    }

    [Fact]
    public void Common_cause_failures_three_nodes()
    {
        var beta = Rational.Of(1, 10);
        var single = (1 - beta) * L;
        var shock = beta * L;
        // States = nodes down. A shock at rate βλ takes every up node down.
        var chain = new ExactChain(4)
            .Add(0, 1, 3 * single).Add(0, 3, shock)
            .Add(1, 2, 2 * single).Add(1, 3, shock).Add(1, 0, M)
            .Add(2, 3, single + shock).Add(2, 1, 2 * M)
            .Add(3, 2, 3 * M);
        var pi = chain.SteadyState();
        var exactU = pi[2] + pi[3];
        var mttf = chain.MeanTimeTo(new HashSet<int> { 2, 3 })[0];
        var r = ClusterAvailability.Analyze(new ClusterDescription(3, Lambda, Mu, CommonCauseBeta: 0.1));
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
        Close.Relative(mttf.ToDouble(), r.MeanTimeToFailureHours, 1e-12);
        // Common cause dominates: roughly βλ/(3μ) more unavailability than independent failures alone.
        Assert.True(r.Unavailability > 10 * 2.992015e-6);
    }

    [Fact]
    public void Failover_state_three_nodes()
    {
        var c = Rational.Of(9, 10);
        var end = Rational.Of(120); // 30-second failover
        // 0 U0, 1 U1, 2 U2, 3 U3 (nodes down, no failover pending); 4 F1 failing over with 1 down; 5 F0 failing over,
        // the failed leader already repaired; 6 X1 uncovered leader failure with 1 down.
        var chain = new ExactChain(7)
            .Add(0, 1, 2 * L).Add(0, 4, c * L).Add(0, 6, (1 - c) * L)
            .Add(1, 2, 2 * L).Add(1, 0, M)
            .Add(2, 3, L).Add(2, 1, 2 * M)
            .Add(3, 2, 3 * M)
            .Add(4, 2, 2 * L).Add(4, 5, M).Add(4, 1, end)
            .Add(5, 4, 3 * L).Add(5, 0, end)
            .Add(6, 2, 2 * L).Add(6, 0, M);
        var pi = chain.SteadyState();
        var exactU = pi[2] + pi[3] + pi[4] + pi[5] + pi[6];
        var down = new HashSet<int> { 2, 3, 4, 5, 6 };
        var mttf = chain.MeanTimeTo(down)[0];
        var frequency = (pi[0] * (L + 0)) + (pi[1] * 2 * L);

        var cluster = new ClusterDescription(3, Lambda, Mu, Failover: new FailoverModel(30.0 / 3600, 0.9));
        var r = ClusterAvailability.Analyze(cluster);
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
        Close.Relative(mttf.ToDouble(), r.MeanTimeToFailureHours, 1e-12);
        Close.Relative(frequency.ToDouble(), r.FailureFrequencyPerHour, 1e-12);
        Assert.Equal(7, r.StateCount);

        // After a year the transient equals the steady state (Λt ≈ 10^6 here).
        var model = ClusterModel.Build(cluster);
        var year = ClusterAvailability.PointUnavailability(model, new[] { 8766.0 })[0];
        Close.Relative(exactU.ToDouble(), year, 1e-9);
        // Summed over the up states the availability keeps its digits too: no probability mass leaks over 10^6 steps.
        var yearA = ClusterAvailability.PointAvailability(model, new[] { 8766.0 })[0];
        Close.Absolute((1 - exactU).ToDouble(), yearA, 1e-14);
    }

    [Fact]
    public void Five_nodes_shared_repair_with_failover()
    {
        var c = Rational.Of(99, 100);
        var end = Rational.Of(360); // 10-second failover
        // Nodes down j = 0..5 (U0..U5 = 0..5); failing over with j down: F0..F2 = 6..8; uncovered: X1, X2 = 9, 10.
        // One crew repairs at μ. Majority 3: a failure leaving ≥ 3 up forces a failover if it hit the leader (1 of
        // the up nodes).
        var chain = new ExactChain(11)
            .Add(0, 1, 4 * L).Add(0, 7, c * L).Add(0, 9, (1 - c) * L)
            .Add(1, 2, 3 * L).Add(1, 8, c * L).Add(1, 10, (1 - c) * L).Add(1, 0, M)
            .Add(2, 3, 3 * L).Add(2, 1, M)
            .Add(3, 4, 2 * L).Add(3, 2, M)
            .Add(4, 5, L).Add(4, 3, M)
            .Add(5, 4, M)
            .Add(6, 7, 5 * L).Add(6, 0, end)
            .Add(7, 8, 4 * L).Add(7, 6, M).Add(7, 1, end)
            .Add(8, 3, 3 * L).Add(8, 7, M).Add(8, 2, end)
            .Add(9, 10, 4 * L).Add(9, 0, M)
            .Add(10, 3, 3 * L).Add(10, 1, M);
        var pi = chain.SteadyState();
        var up = new[] { 0, 1, 2 };
        var exactA = up.Aggregate(Rational.Zero, (s, i) => s + pi[i]);
        var exactU = Enumerable.Range(3, 8).Aggregate(Rational.Zero, (s, i) => s + pi[i]);
        var mttf = chain.MeanTimeTo(Enumerable.Range(3, 8).ToHashSet())[0];

        var r = ClusterAvailability.Analyze(new ClusterDescription(5, Lambda, Mu, RepairCrews: 1, Failover: new FailoverModel(10.0 / 3600, 0.99)));
        Close.Relative(exactU.ToDouble(), r.Unavailability, 1e-12);
        Close.Relative(exactA.ToDouble(), r.Availability, 1e-15);
        Close.Relative(mttf.ToDouble(), r.MeanTimeToFailureHours, 1e-12);
        Assert.Equal(11, r.StateCount);
    }

    [Fact]
    public void Instant_failover_with_partial_coverage_has_no_failing_over_states()
    {
        var c = Rational.Of(1, 2);
        var chain = new ExactChain(5)
            .Add(0, 1, 2 * L + c * L).Add(0, 4, (1 - c) * L)
            .Add(1, 2, 2 * L).Add(1, 0, M)
            .Add(2, 3, L).Add(2, 1, 2 * M)
            .Add(3, 2, 3 * M)
            .Add(4, 2, 2 * L).Add(4, 0, M);
        var pi = chain.SteadyState();
        var r = ClusterAvailability.Analyze(new ClusterDescription(3, Lambda, Mu, Failover: new FailoverModel(0, 0.5)));
        Close.Relative((pi[2] + pi[3] + pi[4]).ToDouble(), r.Unavailability, 1e-12);
        Assert.Equal(5, r.StateCount);
    }

    [Fact]
    public void Mean_time_until_all_three_nodes_are_down()
    {
        var chain = new ExactChain(4)
            .Add(0, 1, 3 * L)
            .Add(1, 2, 2 * L).Add(1, 0, M)
            .Add(2, 3, L).Add(2, 1, 2 * M);
        var expected = chain.MeanTimeTo(new HashSet<int> { 3 })[0];
        var model = ClusterModel.Build(new ClusterDescription(3, Lambda, Mu));
        Close.Relative(expected.ToDouble(), model.MeanTimeUntilFailedNodes(3), 1e-12);
        Close.Relative(167_500, model.MeanTimeUntilFailedNodes(2), 1e-12);
    }

    [Fact]
    public void Single_node_is_the_two_state_model()
    {
        var r = ClusterAvailability.Analyze(new ClusterDescription(1, Lambda, Mu));
        Close.Relative(Lambda / (Lambda + Mu), r.Unavailability, 1e-14);
        Close.Relative(1 / Lambda, r.MeanTimeToFailureHours, 1e-13);
        Close.Relative(1 / Mu, r.MeanDownTimeHours, 1e-13);
    }

    [Theory]
    [InlineData(0, 1e-3, 1.0, null, null, 0.0, "nodes")]
    [InlineData(3, -1e-3, 1.0, null, null, 0.0, "failureRate")]
    [InlineData(3, 1e-3, 0.0, null, null, 0.0, "repairRate")]
    [InlineData(3, 1e-3, 1.0, 4, null, 0.0, "quorum")]
    [InlineData(3, 1e-3, 1.0, 0, null, 0.0, "quorum")]
    [InlineData(3, 1e-3, 1.0, null, 0, 0.0, "repairCrews")]
    [InlineData(3, 1e-3, 1.0, null, null, 1.0, "beta")]
    [InlineData(3, 1e-3, 1.0, null, null, -0.1, "beta")]
    public void Bad_descriptions_name_the_field(int nodes, double lambda, double mu, int? quorum, int? crews, double beta, string field)
    {
        var e = Assert.Throws<AvailabilityInputException>(() => ClusterModel.Build(new ClusterDescription(nodes, lambda, mu, quorum, crews, null, beta)));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_failover_names_the_field()
    {
        var e = Assert.Throws<AvailabilityInputException>(() => ClusterModel.Build(new ClusterDescription(3, Lambda, Mu, Failover: new FailoverModel(0.01, 1.5))));
        Assert.Equal("coverage", e.Field);
        e = Assert.Throws<AvailabilityInputException>(() => ClusterModel.Build(new ClusterDescription(3, Lambda, Mu, Failover: new FailoverModel(-1))));
        Assert.Equal("failoverDuration", e.Field);
    }
}
