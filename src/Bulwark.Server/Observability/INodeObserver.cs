using Bulwark.Consensus;

namespace Bulwark.Server.Observability;

/// <summary>
/// What the node host tells observability as it runs. Calls come from the node loop or the peer transport's receiving connections, so an
/// implementation must be cheap and must never throw or block.
/// </summary>
public interface INodeObserver
{
    /// <summary>A Raft message arrived from a peer (any message proves the peer is alive).</summary>
    void MessageReceived(Message message);

    /// <summary>The loop handed a Raft message to the transport.</summary>
    void MessageSent(Message message);

    /// <summary>A Ready was made durable; <paramref name="synced"/> says whether it needed an fsync.</summary>
    void Persisted(TimeSpan duration, bool synced);

    /// <summary>The node wrote a snapshot at <paramref name="index"/> and compacted its log behind it.</summary>
    void SnapshotTaken(ulong index, long bytes, TimeSpan duration);

    /// <summary>A client proposal timed out or was refused after it was accepted for proposing.</summary>
    void ProposalFailed();

    /// <summary>The node installed a snapshot received from the leader.</summary>
    void SnapshotInstalled(ulong index, long bytes);

    /// <summary>An alarm of this member (etcd's AlarmType name, e.g. NOSPACE) was raised or cleared.</summary>
    void Alarm(string alarm, bool raised);

    /// <summary>
    /// A replicated alarm (CORRUPT) about member <paramref name="memberId"/> was raised or cleared as this member applied
    /// it from the log (called on the apply worker).
    /// </summary>
    void ReplicatedAlarm(ulong memberId, string alarm, bool raised)
    {
    }

    /// <summary>One run of the leader's corruption check ended: "ok", "mismatch" or "incomplete" (see CorruptionCheck).</summary>
    void CorruptionChecked(string result)
    {
    }

    /// <summary>This member, leading, found <paramref name="memberId"/>'s state different from the others'.</summary>
    void CorruptionDetected(ulong memberId, string reason, IReadOnlyDictionary<string, object> details)
    {
    }

    /// <summary>
    /// The leader this node knows changed from <paramref name="previous"/> to <paramref name="leader"/> (0: none), seen
    /// by the loop in a Ready, so no change is missed however short.
    /// </summary>
    void LeaderChanged(ulong previous, ulong leader, ulong term)
    {
    }

    /// <summary>
    /// This member revoked lease <paramref name="leaseId"/> because the keep-alive stream that bound it
    /// (bulwark-lease-release-on-disconnect) ended by the client's departure; <paramref name="peer"/> is that client's address.
    /// </summary>
    void LeaseReleasedOnDisconnect(long leaseId, string peer)
    {
    }

    /// <summary>
    /// An inbound peer connection from <paramref name="remote"/> was refused before any message was read from it (a failed
    /// TLS handshake, or a handshake frame this member turned away). Called on the connection's thread.
    /// </summary>
    void PeerConnectionRefused(string remote, string reason)
    {
    }

    /// <summary>A batch of committed entries was applied to the key-value store in <paramref name="duration"/>.</summary>
    void BackendCommitted(TimeSpan duration)
    {
    }

    /// <summary>This follower reported its leader <paramref name="leader"/> suspected: silent for <paramref name="silence"/> (phi <paramref name="phi"/>).</summary>
    void LeaderSuspected(ulong leader, TimeSpan silence, double phi)
    {
    }

    /// <summary>This follower reported its leader alive but not committing past <paramref name="commit"/> to the other voters.</summary>
    void LeaderNotCommittingReported(ulong leader, ulong term, ulong commit, int reports)
    {
    }

    /// <summary>A quorum of voters (<paramref name="reports"/>) reported the leader not committing: this follower gave it up and campaigns.</summary>
    void CampaignForNoProgress(ulong leader, ulong term, ulong commit, int reports)
    {
    }

    /// <summary>This leader, persistently degraded, started handing leadership to <paramref name="target"/>; the fields hold the metric values.</summary>
    void LeadershipTransferredForHealth(ulong target, string reason, IReadOnlyDictionary<string, object> fields)
    {
    }
}
