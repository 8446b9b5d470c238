using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>Node host log events (ids 1000-1099 are stable: alerts and tests may match on them).</summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "node {NodeId:x} ({Name}) started: cluster {ClusterId:x}, term {Term}, commit {Commit}, snapshot {SnapshotIndex}, {EntryCount} logged entries, bootstrap {Bootstrap}")]
    public static partial void Started(ILogger logger, ulong nodeId, string name, ulong clusterId, ulong term, ulong commit, ulong snapshotIndex, int entryCount, bool bootstrap);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "node {NodeId:x} became leader in term {Term}")]
    public static partial void BecameLeader(ILogger logger, ulong nodeId, ulong term);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "node {NodeId:x} became {Role} in term {Term} (leader {Leader:x})")]
    public static partial void BecameFollower(ILogger logger, ulong nodeId, string role, ulong term, ulong leader);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "leader changed from {OldLeader:x} to {NewLeader:x} in term {Term}")]
    public static partial void LeaderChanged(ILogger logger, ulong oldLeader, ulong newLeader, ulong term);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "snapshot taken at index {Index} term {Term} ({Bytes} bytes); log compacted")]
    public static partial void SnapshotTaken(ILogger logger, ulong index, ulong term, long bytes);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "snapshot installed at index {Index} term {Term} ({Bytes} bytes)")]
    public static partial void SnapshotInstalled(ILogger logger, ulong index, ulong term, long bytes);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Critical, Message = "FAIL-STOP: node {NodeId:x} stops: {Reason}")]
    public static partial void FailStop(ILogger logger, ulong nodeId, string reason, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "member {MemberId:x} ({Name}) published client URLs {ClientUrls}")]
    public static partial void MemberPublished(ILogger logger, ulong memberId, string name, string clientUrls);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "membership change applied: {Change} node {MemberId:x}")]
    public static partial void MembershipChanged(ILogger logger, string change, ulong memberId);

    // EventId 1009 (no snapshot to send) moved to the transport: TransportLog.SnapshotSendFailed (1108).

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "node {NodeId:x} stopped")]
    public static partial void Stopped(ILogger logger, ulong nodeId);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "recovered write-ahead log had a torn tail in {File} at offset {Offset} ({Reason}); it was cut off (it was never acknowledged)")]
    public static partial void TornTail(ILogger logger, string file, long offset, string reason);

    // 1020-1029: the NOSPACE alarm (kept apart from the ids above so concurrent additions do not collide).
    [LoggerMessage(EventId = 1020, Level = LogLevel.Error, Message = "ALARM NOSPACE raised on node {NodeId:x}: {Reason}. Client writes are refused on this member until space returns; serializable reads keep working")]
    public static partial void NoSpaceRaised(ILogger logger, ulong nodeId, string reason);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "ALARM NOSPACE cleared on node {NodeId:x}: the held writes went through; writes resume")]
    public static partial void NoSpaceCleared(ILogger logger, ulong nodeId);

    [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "disk full persisting node {NodeId:x}'s Raft state; holding it and retrying in {DelayMs} ms: {Reason}")]
    public static partial void PersistNoSpace(ILogger logger, ulong nodeId, long delayMs, string reason);

    [LoggerMessage(EventId = 1023, Level = LogLevel.Warning, Message = "disk full writing a snapshot at index {Index}; retried later: {Reason}")]
    public static partial void SnapshotNoSpace(ILogger logger, ulong index, string reason);

    // 1040-1049: membership changes and joining (kept apart from the ids above so concurrent additions do not collide).
    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "member {MemberId:x} peer URLs updated to {PeerUrls}")]
    public static partial void MemberPeerUrlsUpdated(ILogger logger, ulong memberId, string peerUrls);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Critical, Message = "the member has been permanently removed from the cluster: node {NodeId:x} stops serving ({How})")]
    public static partial void RemovedFromCluster(ILogger logger, ulong nodeId, string how);

    [LoggerMessage(EventId = 1042, Level = LogLevel.Information, Message = "membership change refused: {Change}: {Reason}")]
    public static partial void MembershipRefused(ILogger logger, string change, string reason);

    [LoggerMessage(EventId = 1043, Level = LogLevel.Information, Message = "handing leadership to {Target:x} before removing this leader ({MemberId:x})")]
    public static partial void HandingOverBeforeRemoval(ILogger logger, ulong target, ulong memberId);

    [LoggerMessage(EventId = 1070, Level = LogLevel.Warning, Message = "leader {Leader:x} suspected: silent for {SilenceMs:F0} ms (phi {Phi:F1}, usual gap {UsualGapMs:F0} ms); campaigning before the election timeout if a quorum agrees")]
    public static partial void LeaderSuspected(ILogger logger, ulong leader, double silenceMs, double phi, double usualGapMs);

    [LoggerMessage(EventId = 1071, Level = LogLevel.Warning, Message = "handing leadership to {Target:x}: this leader ({MemberId:x}) is degraded: {Reason}")]
    public static partial void TransferringForHealth(ILogger logger, ulong target, ulong memberId, string reason);

    [LoggerMessage(EventId = 1072, Level = LogLevel.Warning, Message = "this leader ({MemberId:x}) is degraded ({Reason}) but no follower is caught up and reachable to take over")]
    public static partial void DegradedWithoutTarget(ILogger logger, ulong memberId, string reason);

    [LoggerMessage(EventId = 1073, Level = LogLevel.Warning, Message = "leader {Leader:x} (term {Term}) keeps sending but has not committed past {Commit} while entries are pending: reported to the other voters ({Reports} voters report it)")]
    public static partial void LeaderNotCommittingReported(ILogger logger, ulong leader, ulong term, ulong commit, int reports);

    [LoggerMessage(EventId = 1074, Level = LogLevel.Warning, Message = "{Reports} voters (a quorum) report leader {Leader:x} (term {Term}) not committing past {Commit}: giving it up and campaigning")]
    public static partial void CampaignForNoProgress(ILogger logger, ulong leader, ulong term, ulong commit, int reports);
}
