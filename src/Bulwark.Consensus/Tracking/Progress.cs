namespace Bulwark.Consensus.Tracking;

/// <summary>
/// The leader's view of one member's log (as in etcd's tracker.Progress): the highest index known to match,
/// the next index to send, and a flow-control state. Invariant: Match &lt; Next.
/// </summary>
internal sealed class Progress
{
    public Progress(ulong id, ulong next, int maxInflight, bool isLearner)
    {
        Id = id;
        Next = Math.Max(next, 1);
        Inflights = new Inflights(maxInflight);
        IsLearner = isLearner;
    }

    public ulong Id { get; }

    public ulong Match { get; private set; }

    public ulong Next { get; private set; }

    public ProgressState State { get; private set; }

    /// <summary>In Snapshot state: the index of the snapshot sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary>In Probe state: an Append is out and we wait for its answer (or a heartbeat response).</summary>
    public bool ProbeSent { get; set; }

    public Inflights Inflights { get; }

    /// <summary>
    /// Whether the next heartbeat response may re-open a paused flow (a probe waiting for its answer, a full in-flight
    /// window). Granted once per periodic heartbeat: read rounds send extra heartbeats, and re-opening on each of their
    /// responses would resend a probe of up to MaxMessageBytes per read round to a member slow to answer it.
    /// </summary>
    public bool HeartbeatMayUnpause { get; set; } = true;

    /// <summary>
    /// In Snapshot state: election timeouts passed without the snapshot being acknowledged since the transport reported
    /// it sent (counted only once <see cref="SnapshotDelivered"/>).
    /// </summary>
    public int SnapshotRounds { get; set; }

    /// <summary>In Snapshot state: the host's transport reported the last byte of the snapshot written.</summary>
    public bool SnapshotDelivered { get; set; }

    /// <summary>In Snapshot state: ticks since the snapshot was handed to the transport.</summary>
    public int SnapshotTicks { get; set; }

    public bool IsLearner { get; set; }

    /// <summary>Highest ReadIndex sequence number this member acknowledged through a heartbeat response.</summary>
    public ulong ReadAck { get; set; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // After a snapshot, the follower has at least the snapshot: probe from just past it.
        if (State == ProgressState.Snapshot)
        {
            var pending = PendingSnapshot;
            ResetState(ProgressState.Probe);
            Next = Math.Max(Match + 1, pending + 1);
        }
        else
        {
            ResetState(ProgressState.Probe);
            Next = Match + 1;
        }
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>An acknowledgement up to <paramref name="index"/> arrived; false if it tells nothing new.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }

        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>Pipelining: entries up to <paramref name="lastIndex"/> were sent, assume they will arrive.</summary>
    public void SentEntries(ulong lastIndex, int count)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex);
                }

                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
            default:
                throw new RaftInvariantException($"append sent to {Id:x} while it is in {State} state");
        }
    }

    /// <summary>
    /// The follower rejected an Append whose previous index was <paramref name="rejected"/>; it may match at
    /// <paramref name="matchHint"/> at most. Returns false for a stale rejection.
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }

            Next = Match + 1;
            return true;
        }

        if (Next - 1 != rejected)
        {
            return false;
        }

        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    public FollowerProgress ToStatus() => new(Id, Match, Next, State, RecentActive, IsLearner);

    private void ResetState(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        SnapshotRounds = 0;
        SnapshotDelivered = false;
        SnapshotTicks = 0;
        State = state;
        Inflights.Reset();
    }
}
