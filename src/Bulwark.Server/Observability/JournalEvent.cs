namespace Bulwark.Server.Observability;

/// <summary>
/// One record of the event journal. Serialized as a JSON line in the format of docs/availability.md: "ts" (ISO-8601 UTC),
/// "event", then "node" and "reason" when set, then <see cref="Fields"/> (numbers or strings).
/// </summary>
public sealed record JournalEvent(DateTimeOffset Timestamp, string Kind, string? Node = null, string? Reason = null, IReadOnlyDictionary<string, object>? Fields = null);

/// <summary>The event kinds the journal writes. The availability estimator reads the first four; it skips the rest.</summary>
public static class JournalEvents
{
    public const string ObservationStart = "observation_start";
    public const string ObservationEnd = "observation_end";

    /// <summary>A peer this node judged DOWN (node = the peer): the estimator counts it as a failure.</summary>
    public const string NodeDown = "node_down";

    /// <summary>A peer back from DOWN (node = the peer): the estimator counts it as a repair.</summary>
    public const string NodeUp = "node_up";

    public const string NodeStarted = "node_started";
    public const string NodeStopped = "node_stopped";
    public const string BecameLeader = "became_leader";
    public const string BecameFollower = "became_follower";
    public const string BecameCandidate = "became_candidate";
    public const string LeaderChanged = "leader_changed";
    public const string PeerSuspected = "peer_suspected";
    public const string PeerRecovered = "peer_recovered";
    public const string PeerDown = "peer_down";
    public const string SnapshotTaken = "snapshot_taken";
    public const string SnapshotInstalled = "snapshot_installed";
    public const string LogCompacted = "log_compacted";
    public const string AlarmRaised = "alarm_raised";
    public const string AlarmCleared = "alarm_cleared";

    /// <summary>
    /// The leader's corruption check found a member whose HashKV differs (node = that member; reason = what differed;
    /// fields: member_id, revision, hashes). The CORRUPT alarm it raises follows as alarm_raised on every member.
    /// </summary>
    public const string CorruptionDetected = "corruption_detected";

    /// <summary>
    /// This member refused an inbound peer connection before any Raft message was read from it (node = this member;
    /// reason = why: a TLS handshake that failed, e.g. no certificate or one the peer CA did not sign, or a refused
    /// handshake frame; fields: remote).
    /// </summary>
    public const string PeerConnectionRefused = "peer_connection_refused";

    /// <summary>
    /// A lease revoked because the client whose keep-alive stream bound it went away (node = this member; fields:
    /// lease_id in hex, peer = the client's address). See docs/concurrency.md, "Release on disconnect".
    /// </summary>
    public const string LeaseReleasedOnDisconnect = "lease_released_on_disconnect";

    /// <summary>
    /// This follower reported its leader suspected before an election timeout: its messages stopped well beyond their
    /// usual gaps (node = the leader; fields: silence_ms, phi, observer). See docs/consensus.md, "Gray failures".
    /// </summary>
    public const string LeaderSuspected = "leader_suspected";

    /// <summary>
    /// This follower reported its leader alive but not committing: its messages keep arriving, entries are pending and
    /// the commit index stood still (node = the leader; fields: term, commit, reports = voters reporting it so far,
    /// observer). See docs/consensus.md, "Gray failures" part 3.
    /// </summary>
    public const string LeaderNotCommitting = "leader_not_committing";

    /// <summary>
    /// A quorum of voters reported the leader not committing, and this follower gave it up and campaigns (node = the
    /// leader; fields: term, commit, reports, observer).
    /// </summary>
    public const string NoProgressCampaign = "no_progress_campaign";

    /// <summary>
    /// This leader, persistently degraded against its own baseline, handed leadership to a caught-up follower (node =
    /// this member; reason = the degraded metrics; fields: target and each metric's value, baseline and threshold).
    /// </summary>
    public const string HealthTransfer = "leadership_transfer_for_health";
}
