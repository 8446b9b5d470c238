namespace Bulwark.Server.Health;

/// <summary>
/// A member's judgement of its own health, for a leader deciding to hand leadership over (docs/consensus.md, "Gray
/// failures"). Samples of each <see cref="HealthMetric"/> are summarized per window (their median; round trips and send
/// queues as the best-off follower's median); a window's value is degraded when it exceeds the metric's <see cref="RobustBaseline"/>
/// median by both k·MAD and the metric's absolute margin, and healthy windows feed the baseline (degraded ones do not,
/// so a lasting fault is never learned as normal). A transfer is due after <see cref="GrayFailureOptions.DegradedWindows"/>
/// consecutive degraded windows, once the member has led for <see cref="GrayFailureOptions.MinTenure"/> and not
/// transferred for health within <see cref="GrayFailureOptions.TransferCooldown"/>. Windows without samples (an idle
/// member) neither count nor break a run. Pure: samples and time are passed in.
/// </summary>
public sealed class LeaderHealthMonitor
{
    private static readonly HealthMetric[] Metrics = Enum.GetValues<HealthMetric>();
    private readonly GrayFailureOptions options;
    private readonly Dictionary<HealthMetric, RobustBaseline> baselines = [];
    private readonly Dictionary<HealthMetric, List<double>> window = [];
    /// <summary>Samples of the per-follower metrics (round trips, send queues) in the current window, per follower.</summary>
    private readonly Dictionary<HealthMetric, Dictionary<ulong, List<double>>> perFollower = new()
    {
        [HealthMetric.PeerRoundTripMs] = [],
        [HealthMetric.SendQueue] = [],
    };
    private TimeSpan? windowStart;
    private TimeSpan? leadingSince;
    private TimeSpan? lastTransfer;
    private int consecutiveDegraded;
    private IReadOnlyList<MetricDegradation> lastDegradation = [];

    public LeaderHealthMonitor(GrayFailureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        foreach (var metric in Metrics)
        {
            baselines[metric] = new RobustBaseline(options.BaselineWindows);
            window[metric] = [];
        }
    }

    /// <summary>Consecutive degraded windows so far.</summary>
    public int ConsecutiveDegraded => consecutiveDegraded;

    /// <summary>What made the latest degraded window degraded (empty before one).</summary>
    public IReadOnlyList<MetricDegradation> LastDegradation => lastDegradation;

    /// <summary>The baseline of <paramref name="metric"/> (median, scaled MAD, windows it rests on).</summary>
    public (double Median, double Mad, int Windows) Baseline(HealthMetric metric)
    {
        var (median, mad) = baselines[metric].Stats();
        return (median, mad, baselines[metric].Count);
    }

    public void Sample(HealthMetric metric, double value, TimeSpan now)
    {
        if (perFollower.ContainsKey(metric))
        {
            throw new ArgumentException($"{MetricDegradation.Name(metric)} is sampled per follower: use RoundTrip or SendQueue", nameof(metric));
        }

        Roll(now);
        window[metric].Add(value);
    }

    /// <summary>A heartbeat round trip to <paramref name="peer"/> of <paramref name="milliseconds"/>.</summary>
    public void RoundTrip(ulong peer, double milliseconds, TimeSpan now) => FollowerSample(HealthMetric.PeerRoundTripMs, peer, milliseconds, now);

    /// <summary><paramref name="queued"/> messages waiting to be sent to <paramref name="peer"/> (sampled each tick while leading).</summary>
    public void SendQueue(ulong peer, int queued, TimeSpan now) => FollowerSample(HealthMetric.SendQueue, peer, queued, now);

    private void FollowerSample(HealthMetric metric, ulong peer, double value, TimeSpan now)
    {
        Roll(now);
        var byPeer = perFollower[metric];
        if (!byPeer.TryGetValue(peer, out var samples))
        {
            byPeer[peer] = samples = [];
        }

        samples.Add(value);
    }

    /// <summary>This member leads (or not) as of <paramref name="now"/>; tenure counts from the change to leading.</summary>
    public void Leading(bool leading, TimeSpan now)
    {
        if (!leading)
        {
            leadingSince = null;
        }
        else
        {
            leadingSince ??= now;
        }
    }

    /// <summary>
    /// Whether the leader should hand leadership over at <paramref name="now"/>: it leads, has led long enough, is out
    /// of its cooldown, and the last <see cref="GrayFailureOptions.DegradedWindows"/> windows with samples were degraded.
    /// </summary>
    public bool TransferDue(TimeSpan now)
    {
        Roll(now);
        return leadingSince is { } since && now - since >= options.MinTenure
            && (lastTransfer is not { } last || now - last >= options.TransferCooldown)
            && consecutiveDegraded >= options.DegradedWindows;
    }

    /// <summary>The degraded run that the last transfer ended (0 before one).</summary>
    public int ConsecutiveDegradedAtTransfer { get; private set; }

    /// <summary>The leader started a transfer for health at <paramref name="now"/>: the cooldown starts, the run is spent.</summary>
    public void Transferred(TimeSpan now)
    {
        lastTransfer = now;
        ConsecutiveDegradedAtTransfer = consecutiveDegraded;
        consecutiveDegraded = 0;
    }

    /// <summary>Closes the current window if it is over (a long gap closes it once; empty windows in between count for nothing).</summary>
    private void Roll(TimeSpan now)
    {
        if (windowStart is not { } start)
        {
            windowStart = now;
            return;
        }

        if (now - start < options.HealthWindow)
        {
            return;
        }

        CloseWindow();
        windowStart = now - start >= options.HealthWindow * 2 ? now : start + options.HealthWindow;
    }

    private void CloseWindow()
    {
        var degraded = new List<MetricDegradation>();
        var judged = false;
        foreach (var metric in Metrics)
        {
            if (WindowValue(metric) is not { } value)
            {
                continue;
            }

            judged = true;
            var baseline = baselines[metric];
            var (median, mad) = baseline.Stats();
            var threshold = median + Math.Max(options.MadMultiplier * mad, Margin(metric));
            if (baseline.Count >= options.MinBaselineWindows && value > threshold)
            {
                degraded.Add(new MetricDegradation(metric, value, median, mad, threshold));
            }
            else
            {
                baseline.Add(value);
            }
        }

        foreach (var samples in window.Values)
        {
            samples.Clear();
        }

        foreach (var byPeer in perFollower.Values)
        {
            byPeer.Clear();
        }
        if (degraded.Count > 0)
        {
            consecutiveDegraded++;
            lastDegradation = degraded;
        }
        else if (judged)
        {
            consecutiveDegraded = 0;
        }
    }

    private double? WindowValue(HealthMetric metric)
    {
        if (perFollower.TryGetValue(metric, out var byPeer))
        {
            // The best-off follower: one slow or backed-up follower is its own problem, all of them is the leader's.
            return byPeer.Count == 0 ? null : byPeer.Values.Min(s => RobustBaseline.Median([.. s]));
        }

        var samples = window[metric];
        return samples.Count == 0 ? null : RobustBaseline.Median([.. samples]);
    }

    private double Margin(HealthMetric metric) => metric switch
    {
        HealthMetric.FsyncMs => options.FsyncMargin.TotalMilliseconds,
        HealthMetric.ApplyLag => options.ApplyLagMargin,
        HealthMetric.PeerRoundTripMs => options.RoundTripMargin.TotalMilliseconds,
        HealthMetric.SendQueue => options.SendQueueMargin,
        _ => 0,
    };
}
