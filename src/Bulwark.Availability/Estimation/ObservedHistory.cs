namespace Bulwark.Availability.Estimation;

/// <summary>
/// What an event log says happened: per-node exposure (hours up, hours down), failure and repair counts, and the
/// cluster's measured availability for a quorum. Every node is taken to be up at the window start unless its
/// first record is <c>node_up</c>; a repeated <c>node_down</c> for a node already down (or <c>node_up</c> for one
/// already up) changes nothing and is counted in <see cref="RepeatedRecords"/>.
/// </summary>
public sealed record ObservedHistory(
    int Nodes,
    int Quorum,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    int Failures,
    double UpHours,
    int Repairs,
    double DownHours,
    double QuorumUpHours,
    double QuorumDownHours,
    int QuorumLosses,
    int RepeatedRecords)
{
    public double WindowHours => (WindowEnd - WindowStart).TotalHours;

    /// <summary>Fraction of the window during which at least a quorum of nodes was up.</summary>
    public double MeasuredAvailability => QuorumUpHours / WindowHours;

    /// <summary>Fraction of the window without a quorum, summed from the down periods themselves.</summary>
    public double MeasuredUnavailability => QuorumDownHours / WindowHours;

    /// <param name="log">The parsed log.</param>
    /// <param name="nodes">Cluster size; null means the nodes named in the log. Nodes beyond those named are taken to
    /// have been up throughout.</param>
    /// <param name="quorum">Quorum size; null means a majority.</param>
    public static ObservedHistory From(EventLog log, int? nodes = null, int? quorum = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        var names = new List<string>(log.DeclaredNodes);
        var known = new HashSet<string>(names, StringComparer.Ordinal);
        foreach (var t in log.Transitions)
        {
            if (known.Add(t.Node))
            {
                if (log.DeclaredNodes.Count > 0)
                {
                    throw new EventLogFormatException(t.Line, "node", $"node '{t.Node}' is not among the nodes listed by observation_start");
                }

                names.Add(t.Node);
            }
        }

        // Without observation_start/observation_end the window runs from the earliest to the latest timestamp the log
        // holds (any kind of record: a member that never judged a peer down still journals other events), so a log
        // without a single node record is a window with no failure seen, not an error.
        var start = log.WindowStart ?? log.EarliestRecord
            ?? throw new AvailabilityInputException("log", "the log has no record with a timestamp, so it covers no time");
        var end = log.WindowEnd ?? log.LatestRecord ?? start;
        if (end <= start)
        {
            throw new AvailabilityInputException("log", $"the observation window {EventLog.Iso(start)} .. {EventLog.Iso(end)} is empty (the log's records all carry the same time); add an observation_end record or use a log that covers some time");
        }

        int n = nodes ?? names.Count;
        if (n < 1)
        {
            throw new AvailabilityInputException("nodes", nodes is null
                ? "the log names no nodes; list them in observation_start's 'nodes' field or give the node count"
                : $"nodes is {n}; a cluster needs at least 1 node");
        }

        if (n < names.Count)
        {
            throw new AvailabilityInputException("nodes", $"nodes is {n}, but the log names {names.Count} nodes ({string.Join(", ", names)})");
        }

        int k = quorum ?? (n / 2) + 1;
        if (k < 1 || k > n)
        {
            throw new AvailabilityInputException("quorum", $"quorum is {k}; it must be between 1 and the number of nodes ({n})");
        }

        // A node whose first record is node_up was down when the window opened.
        var isUp = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            isUp[name] = log.Transitions.FirstOrDefault(t => t.Node == name) is not { IsUp: true };
        }

        int upCount = (n - names.Count) + isUp.Values.Count(v => v);
        double upNodeHours = 0;
        double downNodeHours = 0;
        double quorumUp = 0;
        double quorumDown = 0;
        int failures = 0;
        int repairs = 0;
        int losses = 0;
        int repeated = 0;
        var now = start;
        void Advance(DateTimeOffset to)
        {
            double h = (to - now).TotalHours;
            upNodeHours += upCount * h;
            downNodeHours += (n - upCount) * h;
            if (upCount >= k)
            {
                quorumUp += h;
            }
            else
            {
                quorumDown += h;
            }

            now = to;
        }

        foreach (var t in log.Transitions)
        {
            Advance(t.Timestamp);
            if (isUp[t.Node] == t.IsUp)
            {
                repeated++;
                continue;
            }

            bool hadQuorum = upCount >= k;
            isUp[t.Node] = t.IsUp;
            if (t.IsUp)
            {
                repairs++;
                upCount++;
            }
            else
            {
                failures++;
                upCount--;
                if (hadQuorum && upCount < k)
                {
                    losses++;
                }
            }
        }

        Advance(end);
        return new ObservedHistory(n, k, start, end, failures, upNodeHours, repairs, downNodeHours, quorumUp, quorumDown, losses, repeated);
    }
}
