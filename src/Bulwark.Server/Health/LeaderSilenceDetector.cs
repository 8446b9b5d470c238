using Bulwark.Server.Observability;

namespace Bulwark.Server.Health;

/// <summary>
/// A follower's detector of a silent leader: a <see cref="PhiAccrualDetector"/> fed by every message from the current
/// leader, which learns their usual gaps, plus a floor of a few heartbeat intervals. A paused (SIGSTOP) or cut-off
/// leader closes no connection; this is what lets its followers notice it after a few missed heartbeats instead of a
/// whole election timeout. It only decides when to report (RaftNode.ReportLeaderSuspected); whether the leader is
/// replaced is still the pre-vote's decision. Pure: time is passed in.
/// </summary>
public sealed class LeaderSilenceDetector
{
    /// <summary>Gaps learned before the detector judges: until then the election timeout is the only detector.</summary>
    public const int MinSamples = 5;

    private readonly TimeSpan heartbeatInterval;
    private readonly double suspectPhi;
    private readonly TimeSpan minSilence;
    private ulong leader;
    private PhiAccrualDetector detector;
    private bool reported;

    public LeaderSilenceDetector(TimeSpan heartbeatInterval, double suspectPhi, double minSilenceHeartbeats, TimeSpan? minSilence = null)
    {
        if (heartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(heartbeatInterval), heartbeatInterval, "heartbeat interval must be positive");
        }

        this.heartbeatInterval = heartbeatInterval;
        this.suspectPhi = suspectPhi;
        var floor = heartbeatInterval * minSilenceHeartbeats;
        this.minSilence = minSilence is { } absolute && absolute > floor ? absolute : floor;
        detector = NewDetector();
    }

    /// <summary>The leader being watched (0: none).</summary>
    public ulong Leader => leader;

    /// <summary>The follower's leader is now <paramref name="current"/> (0: none); a different one starts a fresh history.</summary>
    public void Follow(ulong current)
    {
        if (current != leader)
        {
            leader = current;
            detector = NewDetector();
            reported = false;
        }
    }

    /// <summary>A message from <paramref name="from"/> arrived at <paramref name="now"/> (monotonic).</summary>
    public void Heard(ulong from, TimeSpan now)
    {
        if (from != leader || leader == 0)
        {
            return;
        }

        if (detector.LastArrival is not { } last || now >= last)
        {
            detector.Heartbeat(now);
        }

        reported = false;
    }

    /// <summary>
    /// The leader's silence at <paramref name="now"/> if it is to be reported now: long enough by phi and by the floor,
    /// with enough history, and not reported already since the leader's last message. Null otherwise.
    /// </summary>
    public LeaderSilence? Check(TimeSpan now)
    {
        if (leader == 0 || reported || detector.SampleCount < MinSamples || detector.LastArrival is not { } last)
        {
            return null;
        }

        var silence = now - last;
        var phi = detector.Phi(now);
        if (silence < minSilence || phi < suspectPhi)
        {
            return null;
        }

        reported = true;
        return new LeaderSilence(leader, silence, phi, TimeSpan.FromMilliseconds(detector.MeanIntervalMs));
    }

    // A deviation floor of half an interval and half an interval of acceptable pause: tight enough to fire a few
    // heartbeats into a silence, loose enough that a late timer on a loaded machine does not.
    private PhiAccrualDetector NewDetector() => new(50, heartbeatInterval / 2, heartbeatInterval / 2);
}

/// <summary>A leader's silence judged suspicious: how long, its phi, and the usual gap between its messages.</summary>
public sealed record LeaderSilence(ulong Leader, TimeSpan Silence, double Phi, TimeSpan UsualGap);
