using Bulwark.Availability.Markov;

namespace Bulwark.Availability.Cluster;

/// <summary>
/// The continuous-time Markov chain of a cluster, generated from a <see cref="ClusterDescription"/>. Nodes are
/// identical, so a state records how many are down (and whether a failover is pending) rather than which ones.
/// Only states reachable from "all up" are generated.
/// </summary>
public sealed class ClusterModel
{
    private ClusterModel(ClusterDescription description, IReadOnlyList<ClusterState> states, ContinuousTimeMarkovChain chain)
    {
        Description = description;
        States = states;
        Chain = chain;
        var up = new HashSet<int>();
        var down = new HashSet<int>();
        for (int i = 0; i < states.Count; i++)
        {
            (states[i].IsUp ? up : down).Add(i);
        }

        UpStates = up;
        DownStates = down;
    }

    public ClusterDescription Description { get; }

    public IReadOnlyList<ClusterState> States { get; }

    public ContinuousTimeMarkovChain Chain { get; }

    public IReadOnlySet<int> UpStates { get; }

    public IReadOnlySet<int> DownStates { get; }

    /// <summary>Index of the all-up state; always 0.</summary>
    public int AllUpState => 0;

    /// <summary>Generates the chain for a description (validated first).</summary>
    public static ClusterModel Build(ClusterDescription description) => Build(description, withRepair: true);

    /// <summary>
    /// Mean time from all-up until the first moment <paramref name="failedNodes"/> nodes are down at once. Read as mean
    /// time to data loss when each failure destroys the node's copy: a committed entry is only guaranteed to live on a
    /// quorum of k nodes, so k simultaneous losses is the worst case.
    /// </summary>
    public double MeanTimeUntilFailedNodes(int failedNodes)
    {
        if (failedNodes < 1 || failedNodes > Description.Nodes)
        {
            throw new AvailabilityInputException("dataLossNodes", $"data-loss threshold is {failedNodes} nodes; it must be between 1 and {Description.Nodes}");
        }

        var targets = new HashSet<int>();
        for (int i = 0; i < States.Count; i++)
        {
            if (States[i].FailedNodes >= failedNodes)
            {
                targets.Add(i);
            }
        }

        return Chain.MeanTimeToAbsorption(AllUpDistribution(), targets);
    }

    /// <summary>Mean time from all-up to the first outage if failed nodes were never repaired (mission time).</summary>
    public double MeanTimeToFailureWithoutRepair()
    {
        var noRepair = Build(Description, withRepair: false);
        return noRepair.Chain.MeanTimeToAbsorption(noRepair.AllUpDistribution(), noRepair.DownStates);
    }

    public double[] AllUpDistribution()
    {
        var d = new double[States.Count];
        d[AllUpState] = 1;
        return d;
    }

    private static ClusterModel Build(ClusterDescription description, bool withRepair)
    {
        ArgumentNullException.ThrowIfNull(description);
        description.Validate();
        var start = new ClusterState(0, ClusterMode.Normal, IsUp: true);
        var index = new Dictionary<ClusterState, int> { [start] = 0 };
        var states = new List<ClusterState> { start };
        var transitions = new List<Transition>();
        for (int i = 0; i < states.Count; i++)
        {
            foreach (var (target, rate) in Outgoing(description, states[i], withRepair))
            {
                if (rate <= 0)
                {
                    continue;
                }

                if (!index.TryGetValue(target, out int t))
                {
                    t = states.Count;
                    index[target] = t;
                    states.Add(target);
                }

                transitions.Add(new Transition(i, t, rate));
            }
        }

        var chain = ContinuousTimeMarkovChain.FromRates(states.Count, transitions, states.Select(s => s.Name).ToArray());
        return new ClusterModel(description, states, chain);
    }

    private static IEnumerable<(ClusterState Target, double Rate)> Outgoing(ClusterDescription d, ClusterState s, bool withRepair)
    {
        int n = d.Nodes;
        int k = d.QuorumSize;
        int up = n - s.FailedNodes;
        double lambda = d.FailureRate;
        double beta = d.CommonCauseBeta;
        ClusterState Normal(int failed) => new(failed, ClusterMode.Normal, n - failed >= k);

        if (up > 0)
        {
            if (beta > 0)
            {
                // One shock fails every node that is still up.
                yield return (Normal(n), beta * lambda);
            }

            double single = (1 - beta) * lambda;
            int failedAfter = s.FailedNodes + 1;
            bool quorumSurvives = up - 1 >= k;
            switch (s.Mode)
            {
                case ClusterMode.Normal when quorumSurvives && d.Failover is { } f:
                    // The leader is one of the `up` nodes: its failure forces a failover; a follower's does not.
                    yield return (Normal(failedAfter), (up - 1) * single);
                    var covered = f.MeanDurationHours > 0
                        ? new ClusterState(failedAfter, ClusterMode.FailingOver, IsUp: false)
                        : Normal(failedAfter);
                    yield return (covered, f.Coverage * single);
                    yield return (new ClusterState(failedAfter, ClusterMode.Uncovered, IsUp: false), (1 - f.Coverage) * single);
                    break;
                case ClusterMode.Normal:
                    yield return (Normal(failedAfter), up * single);
                    break;
                default:
                    // A further failure during an outage keeps the outage; once the quorum is gone it is a plain quorum loss.
                    yield return (quorumSurvives ? s with { FailedNodes = failedAfter } : Normal(failedAfter), up * single);
                    break;
            }
        }

        if (withRepair && s.FailedNodes > 0)
        {
            double repair = Math.Min(s.FailedNodes, d.Crews) * d.RepairRate;
            int failedAfter = s.FailedNodes - 1;
            // Repairing a node during a failover does not end it; repairing one after an uncovered failure restores service.
            yield return (s.Mode == ClusterMode.FailingOver ? s with { FailedNodes = failedAfter } : Normal(failedAfter), repair);
        }

        if (s.Mode == ClusterMode.FailingOver && d.Failover is { MeanDurationHours: > 0 } fo)
        {
            yield return (Normal(s.FailedNodes), 1 / fo.MeanDurationHours);
        }
    }
}
