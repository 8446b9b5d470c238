using Bulwark.Consensus;
using Bulwark.Server.Health;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Gray failures (docs/consensus.md, "Gray failures"): as a follower, reporting a leader that went silent well beyond
/// the usual gaps between its messages (<see cref="LeaderSilenceDetector"/>, RaftNode.ReportLeaderSuspected); as a
/// leader, handing leadership to the healthiest caught-up follower when its own fsync latency, apply lag, round
/// trips or send queues stay degraded against their learned baseline (<see cref="LeaderHealthMonitor"/>). Both only change when
/// something happens: whom the cluster elects is still the pre-vote's and the core's transfer's decision.
/// </summary>
public sealed partial class ReadyProcessor
{
    private readonly TimeProvider clock;
    private readonly LeaderSilenceDetector? leaderSilence;
    private readonly LeaderHealthMonitor? selfHealth;

    /// <summary>Oldest unanswered heartbeat send per follower (a lost response then shows as a long round trip).</summary>
    private readonly Dictionary<ulong, TimeSpan> heartbeatsOut = [];

    /// <summary>Latest heartbeat round trip per follower, in ms (to pick the healthiest transfer target).</summary>
    private readonly Dictionary<ulong, double> roundTrips = [];

    /// <summary>Followers this leader sent to since it started leading (whose send queues it samples).</summary>
    private readonly HashSet<ulong> sendingTo = [];

    private TimeSpan? lastNoTargetLog;

    /// <summary>Leader suspicions this member reported to its core (tests and metrics).</summary>
    public long LeaderSuspicions { get; private set; }

    /// <summary>Leadership transfers this member started for its own health (tests and metrics).</summary>
    public long HealthTransfers { get; private set; }

    /// <summary>"Alive but not committing" reports this member sent about its leader (tests and metrics).</summary>
    public long NoProgressReports => node.NoProgressReportsSent;

    /// <summary>Campaigns this member started because a quorum reported its leader not committing (tests and metrics).</summary>
    public long NoProgressCampaigns => node.NoProgressCampaigns;

    private long noProgressReportsJournalled;
    private long noProgressCampaignsJournalled;

    /// <summary>This member's own health judgement (loop only; tests).</summary>
    internal LeaderHealthMonitor? SelfHealth => selfHealth;

    private TimeSpan Now() => clock.GetElapsedTime(0);

    private void GrayFailureStepped(Message message)
    {
        if (leaderSilence is null && selfHealth is null)
        {
            return;
        }

        var now = Now();
        leaderSilence?.Heard(message.From, now);
        if (selfHealth is not null && message.Type == MessageType.HeartbeatResponse && heartbeatsOut.Remove(message.From, out var sent))
        {
            var rtt = (now - sent).TotalMilliseconds;
            roundTrips[message.From] = rtt;
            selfHealth.RoundTrip(message.From, rtt, now);
        }
    }

    private void GrayFailureSending(Message message)
    {
        if (selfHealth is not null && soft.Role == Role.Leader)
        {
            sendingTo.Add(message.To);
            if (message.Type == MessageType.Heartbeat)
            {
                heartbeatsOut.TryAdd(message.To, Now());
            }
        }
    }

    private void GrayFailureSynced(TimeSpan duration) =>
        selfHealth?.Sample(HealthMetric.FsyncMs, duration.TotalMilliseconds, Now());

    /// <summary>Before each tick of the core: a suspicion reported now lets a first-ranked follower campaign in this very tick.</summary>
    private void GrayFailureTick()
    {
        if (leaderSilence is null && selfHealth is null)
        {
            return;
        }

        var now = Now();
        var leading = soft.Role == Role.Leader;
        if (leaderSilence is not null)
        {
            leaderSilence.Follow(soft.Role == Role.Follower ? soft.Leader : 0);
            if (leaderSilence.Check(now) is { } silent)
            {
                LeaderSuspicions++;
                HostLog.LeaderSuspected(logger, silent.Leader, silent.Silence.TotalMilliseconds, silent.Phi, silent.UsualGap.TotalMilliseconds);
                options.Observer?.LeaderSuspected(silent.Leader, silent.Silence, silent.Phi);
                node.ReportLeaderSuspected(silent.Leader);
            }
        }

        if (selfHealth is null)
        {
            return;
        }

        if (!leading)
        {
            heartbeatsOut.Clear();
            roundTrips.Clear();
            sendingTo.Clear();
        }

        foreach (var follower in sendingTo)
        {
            selfHealth.SendQueue(follower, network.QueuedTo(follower), now);
        }

        selfHealth.Leading(leading, now);
        selfHealth.Sample(HealthMetric.ApplyLag, queuedForApply - Math.Min(queuedForApply, worker.Applied), now);
        if (leading && selfHealth.TransferDue(now))
        {
            TransferForHealth(now);
        }
    }

    /// <summary>
    /// After each tick and message: journals the core's "alive but not committing" reports and the campaigns a quorum
    /// of them started (the core decides; the host only tells the operator).
    /// </summary>
    private void GrayFailureNoProgressNotices()
    {
        if (node.NoProgressReportsSent == noProgressReportsJournalled && node.NoProgressCampaigns == noProgressCampaignsJournalled)
        {
            return;
        }

        var notice = node.LastNoProgress ?? default;
        if (node.NoProgressReportsSent != noProgressReportsJournalled)
        {
            noProgressReportsJournalled = node.NoProgressReportsSent;
            HostLog.LeaderNotCommittingReported(logger, notice.Leader, notice.Term, notice.Commit, notice.Reports);
            options.Observer?.LeaderNotCommittingReported(notice.Leader, notice.Term, notice.Commit, notice.Reports);
        }

        if (node.NoProgressCampaigns != noProgressCampaignsJournalled)
        {
            noProgressCampaignsJournalled = node.NoProgressCampaigns;
            HostLog.CampaignForNoProgress(logger, notice.Leader, notice.Term, notice.Commit, notice.Reports);
            options.Observer?.CampaignForNoProgress(notice.Leader, notice.Term, notice.Commit, notice.Reports);
        }
    }

    /// <summary>
    /// Hands leadership to the healthiest caught-up follower: a voter the leader heard from recently whose log holds
    /// everything committed, nearest by round trip, then furthest along. None: this leader keeps leading (a transfer
    /// to a follower that is behind would only make the cluster wait for it).
    /// </summary>
    private void TransferForHealth(TimeSpan now)
    {
        var core = node.Status();
        if (core.LeadTransferee != 0)
        {
            return;
        }

        var target = core.Progress
            .Where(p => p.Id != options.NodeId && !p.IsLearner && core.Config.Voters.Contains(p.Id) && p.RecentActive
                && p.State == ProgressState.Replicate && p.Match >= core.HardState.Commit)
            .OrderBy(p => roundTrips.TryGetValue(p.Id, out var rtt) ? rtt : double.MaxValue)
            .ThenByDescending(p => p.Match)
            .Select(p => p.Id)
            .FirstOrDefault();
        var degradation = selfHealth!.LastDegradation;
        var reason = string.Join("; ", degradation);
        if (target == 0)
        {
            if (lastNoTargetLog is not { } logged || now - logged >= TimeSpan.FromSeconds(10))
            {
                lastNoTargetLog = now;
                HostLog.DegradedWithoutTarget(logger, options.NodeId, reason);
            }

            return;
        }

        selfHealth.Transferred(now);
        HealthTransfers++;
        HostLog.TransferringForHealth(logger, target, options.NodeId, reason);
        var fields = new Dictionary<string, object>
        {
            ["target"] = target.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
            ["degraded_windows"] = selfHealth.ConsecutiveDegradedAtTransfer,
        };
        foreach (var metric in degradation)
        {
            var name = MetricDegradation.Name(metric.Metric);
            fields[name] = Math.Round(metric.Value, 2);
            fields[name + "_baseline"] = Math.Round(metric.BaselineMedian, 2);
            fields[name + "_threshold"] = Math.Round(metric.Threshold, 2);
        }

        options.Observer?.LeadershipTransferredForHealth(target, reason, fields);
        node.TransferLeadership(target);
    }
}
