namespace Bulwark.Server.Health;

/// <summary>
/// Settings of gray-failure handling (docs/consensus.md, "Gray failures"): followers suspecting a silent leader before
/// an election timeout, a degraded leader handing leadership over, and followers reporting a leader that is alive but
/// not committing. Times scale with the heartbeat interval unless
/// given; the defaults are what `bulwark serve` runs.
/// </summary>
public sealed record GrayFailureOptions
{
    /// <summary>Everything on (the default).</summary>
    public static readonly GrayFailureOptions Default = new();

    /// <summary>Everything off: only the election timeout and closed connections detect a failed leader.</summary>
    public static readonly GrayFailureOptions Off = new() { LeaderSuspicion = false, HealthTransfer = false, NoProgressReports = false };

    /// <summary>Followers report a leader whose messages stopped well beyond their learned gaps (RaftNode.ReportLeaderSuspected).</summary>
    public bool LeaderSuspicion { get; init; } = true;

    /// <summary>Phi at or above which the leader's silence is suspected (phi 3: a gap that long has a 1 in 1,000 chance).</summary>
    public double LeaderSuspectPhi { get; init; } = 3;

    /// <summary>
    /// The leader is never suspected before this many heartbeat intervals of silence, whatever phi says: while the
    /// leader streams appends its messages come far more often than heartbeats, and the gap after a burst is not a
    /// failure.
    /// </summary>
    public double MinSilenceHeartbeats { get; init; } = 3;

    /// <summary>
    /// And never before this much silence, whatever the heartbeat interval: with short intervals (Bulwark's default
    /// 50 ms) three of them are within the scheduling stalls of a loaded machine, and a suspicion at every follower at
    /// once is an election. 250 ms measured on a 2-core machine at load 40: most false suspicions at 50 ms heartbeats
    /// came 150–250 ms into a silence (docs/chaos.md, "Gray failures"). Raised to 400 ms after a CI run on a loaded
    /// machine saw both followers suspect a busy leader after 319 and 332 ms of silence and elect another (RejoinTests):
    /// still below the 500 ms minimum election timeout of the defaults, and well below etcd's timing's 1,000 ms.
    /// </summary>
    public TimeSpan MinSilence { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>A leader persistently degraded against its own baseline hands leadership to a healthy caught-up follower.</summary>
    public bool HealthTransfer { get; init; } = true;

    /// <summary>Length of one health window; each metric is summarized per window (its median).</summary>
    public TimeSpan HealthWindow { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Consecutive degraded windows before the leader transfers (hysteresis).</summary>
    public int DegradedWindows { get; init; } = 3;

    /// <summary>Healthy windows kept as the baseline (median and MAD are taken over them).</summary>
    public int BaselineWindows { get; init; } = 40;

    /// <summary>Healthy windows needed before a metric can be judged at all.</summary>
    public int MinBaselineWindows { get; init; } = 6;

    /// <summary>A window is degraded above median + this many (scaled) MADs of the baseline.</summary>
    public double MadMultiplier { get; init; } = 6;

    /// <summary>A leader must have led this long before it may hand leadership over for health.</summary>
    public TimeSpan MinTenure { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>After a health transfer, this member does not transfer for health again for this long (no ping-pong).</summary>
    public TimeSpan TransferCooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Fsync latency must also exceed its baseline median by this much (an absolute floor: 1 ms to 3 ms is no failure).</summary>
    public TimeSpan FsyncMargin { get; init; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Apply lag (entries handed to the apply worker and not yet applied) must exceed its baseline by this much.</summary>
    public double ApplyLagMargin { get; init; } = 1000;

    /// <summary>The round trip to the nearest follower must exceed its baseline by this much.</summary>
    public TimeSpan RoundTripMargin { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// The send queue to the least backed-up follower must exceed its baseline by this many messages. A queue to one
    /// follower (catching up, slow) is that follower's; a queue towards every follower at once means the leader cannot
    /// get its messages out (a sick NIC, a starved sender, a full socket buffer) while its clients' writes wait on them.
    /// </summary>
    public double SendQueueMargin { get; init; } = 256;

    /// <summary>
    /// Followers that keep hearing their leader while they hold entries past their commit index (or forwarded a
    /// proposal) and see the commit index stand still report it to the other voters; a quorum of reports starts a
    /// pre-vote campaign (RaftConfig.NoProgressTicks, docs/consensus.md "Gray failures" part 3).
    /// </summary>
    public bool NoProgressReports { get; init; } = true;

    /// <summary>
    /// How long, in election timeouts, the commit index must stand still with work pending before a follower reports
    /// (1.5 s at the defaults' 500 ms): well beyond a slow fsync (the health transfer acts on those) and beyond the
    /// scheduling stalls of a loaded machine. A leader is also never reported in its first three election timeouts.
    /// </summary>
    public double NoProgressElectionTimeouts { get; init; } = 3;

    /// <summary>The core's <c>NoProgressTicks</c> for <paramref name="electionTicks"/> ticks per election timeout (0 = off).</summary>
    public int NoProgressTicks(int electionTicks) =>
        NoProgressReports ? Math.Max(electionTicks + 1, (int)Math.Ceiling(NoProgressElectionTimeouts * electionTicks)) : 0;

    /// <summary>Throws with a message naming the first setting that is wrong.</summary>
    public void Validate()
    {
        if (LeaderSuspectPhi <= 0) throw new ArgumentException("leader suspicion phi must be positive");
        if (MinSilenceHeartbeats < 1) throw new ArgumentException("the minimum leader silence must be at least one heartbeat interval");
        if (MinSilence < TimeSpan.Zero) throw new ArgumentException("the minimum leader silence must not be negative");
        if (HealthWindow <= TimeSpan.Zero) throw new ArgumentException("the health window must be positive");
        if (DegradedWindows < 1) throw new ArgumentException("degraded windows must be at least 1");
        if (MinBaselineWindows < 2 || BaselineWindows < MinBaselineWindows) throw new ArgumentException("baseline windows must be at least the minimum, which must be at least 2");
        if (MadMultiplier <= 0) throw new ArgumentException("the MAD multiplier must be positive");
        if (MinTenure < TimeSpan.Zero || TransferCooldown < TimeSpan.Zero) throw new ArgumentException("tenure and cooldown must not be negative");
        if (NoProgressElectionTimeouts <= 1) throw new ArgumentException("the no-progress window must exceed one election timeout");
        if (FsyncMargin < TimeSpan.Zero || RoundTripMargin < TimeSpan.Zero || ApplyLagMargin < 0 || SendQueueMargin < 0) throw new ArgumentException("metric margins must not be negative");
    }
}
