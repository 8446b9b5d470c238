using Bulwark.Consensus;
using Bulwark.Server.Observability;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Everything the node host does about a full disk, in one place (docs/storage.md, "Disk full in the node host"):
/// <list type="bullet">
/// <item>the Ready whose persist failed and the log release after a snapshot that failed, held until a retry writes them
/// (<see cref="HoldReady"/>, <see cref="HoldRelease"/>, <see cref="RetryHeld"/>);</item>
/// <item>the input policy while they are held: the core is paused (<see cref="AdmitsCoreInput"/> is false: ticks, peer
/// messages, campaign requests and unreachability hints are dropped), queued proposals fail with
/// <see cref="NodeError.NoSpace"/> and reads with <see cref="NodeError.DiskBlocked"/>, snapshot-send failures are deferred
/// (one per peer) until the retry worked;</item>
/// <item>a snapshot the apply worker could not write (<see cref="SnapshotWriteFailed"/>), retried only when asked;</item>
/// <item>the NOSPACE <see cref="Alarm"/>, raised while anything is held and the check callers make before a request
/// reaches the loop (<see cref="RefuseNewWrite"/>, <see cref="RefuseNewLinearizableRead"/>);</item>
/// <item>the retry backoff, <see cref="FirstRetry"/> doubling to <see cref="MaxRetry"/>. There is no clock here: the
/// caller waits <see cref="NextRetryDelay"/> on its own time (a timer in <see cref="NodeHost"/>, virtual time in the
/// simulator) and then retries.</item>
/// </list>
/// The Raft loop's members are loop-only; <see cref="Alarm"/>, the <c>Refuse*</c> checks and the snapshot members are
/// thread-safe (the apply worker and request threads use them).
/// </summary>
public sealed class DiskFullPolicy
{
    /// <summary>The first wait before retrying writes a full disk held back.</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between retries of writes a full disk holds back.</summary>
    public static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(2);

    private readonly PendingRequests pending;
    private readonly HashSet<ulong> deferredSnapshotFailures = [];
    private Ready? heldReady;
    private SnapshotMetadata? heldRelease;
    private TimeSpan retryDelay = FirstRetry;

    public DiskFullPolicy(ulong nodeId, ILogger logger, INodeObserver? observer, PendingRequests pending)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(pending);
        this.pending = pending;
        Alarm = new DiskSpaceAlarm(nodeId, logger, observer);
    }

    /// <summary>This member's NOSPACE alarm (any thread).</summary>
    public DiskSpaceAlarm Alarm { get; }

    /// <summary>
    /// True while a write to the log failed for lack of space and is held (loop only): the core must get no input until
    /// <see cref="RetryHeld"/> succeeds, because the held Ready has not been advanced and the core's Ready/Advance
    /// contract allows only one outstanding Ready.
    /// </summary>
    public bool WritesBlocked => heldReady is not null || heldRelease is not null;

    /// <summary>False while writes are held: ticks, peer messages, campaign requests and transport hints are dropped
    /// (Raft tolerates lost messages; a dropped tick only delays timeouts) instead of reaching the paused core.</summary>
    public bool AdmitsCoreInput => !WritesBlocked;

    /// <summary>True while a snapshot the apply worker tried to write found the disk full (any thread).</summary>
    public bool SnapshotBlocked => Alarm.SnapshotBlocked;

    /// <summary>Holds a Ready whose write found the disk full (it is not advanced) and raises the alarm.</summary>
    public void HoldReady(Ready ready, string why)
    {
        ArgumentNullException.ThrowIfNull(ready);
        var wasBlocked = WritesBlocked;
        heldReady = ready;
        Blocked(wasBlocked, why);
    }

    /// <summary>Holds a log release (to a snapshot the worker wrote) that found no room for its marker.</summary>
    public void HoldRelease(SnapshotMetadata snapshot, string why)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var wasBlocked = WritesBlocked;
        heldRelease = snapshot;
        Blocked(wasBlocked, why);
    }

    /// <summary>
    /// Tries the held writes again, the log release first, then the Ready (its write, then <paramref name="finish"/>,
    /// which completes it exactly as if its first persist had worked). A try that fails holds its write again (the
    /// callbacks call <see cref="HoldRelease"/>/<see cref="HoldReady"/>) and stops here. When nothing is held any more,
    /// clears the log's part of the alarm and reports the deferred snapshot-send failures to
    /// <paramref name="reportSnapshotFailure"/>.
    /// </summary>
    /// <returns>True when nothing is held any more.</returns>
    public bool RetryHeld(Func<SnapshotMetadata, bool> tryRelease, Func<Ready, bool> tryWrite, Action<Ready> finish, Action<ulong> reportSnapshotFailure)
    {
        ArgumentNullException.ThrowIfNull(tryRelease);
        ArgumentNullException.ThrowIfNull(tryWrite);
        ArgumentNullException.ThrowIfNull(finish);
        ArgumentNullException.ThrowIfNull(reportSnapshotFailure);
        if (heldRelease is { } release)
        {
            if (!tryRelease(release))
            {
                return false;
            }

            heldRelease = null;
        }

        if (heldReady is { } ready)
        {
            if (!tryWrite(ready))
            {
                return false;
            }

            heldReady = null;
            finish(ready);
        }

        Alarm.Unblock(DiskSpaceUse.Log);
        foreach (var peer in deferredSnapshotFailures)
        {
            reportSnapshotFailure(peer);
        }

        deferredSnapshotFailures.Clear();
        return true;
    }

    /// <summary>
    /// A proposal the loop took while writes are held fails at once with <see cref="NodeError.NoSpace"/> (nothing of it
    /// reaches the log). True when it was refused.
    /// </summary>
    public bool RefuseProposal(ulong requestId)
    {
        if (!WritesBlocked)
        {
            return false;
        }

        pending.FailProposal(requestId, ServerErrors.NoSpace().AsNeverProposed());
        return true;
    }

    /// <summary>A linearizable read the loop took while writes are held fails at once with <see cref="NodeError.DiskBlocked"/>.</summary>
    public bool RefuseRead(ulong readId)
    {
        if (!WritesBlocked)
        {
            return false;
        }

        pending.FailRead(readId, ServerErrors.DiskBlocked());
        return true;
    }

    /// <summary>
    /// A failed snapshot send reported while writes are held is kept (one per peer) and reported once the retry worked,
    /// so the leader's progress for that peer does not wait forever for the snapshot. True when it was deferred.
    /// </summary>
    public bool DeferSnapshotFailure(ulong peer)
    {
        if (!WritesBlocked)
        {
            return false;
        }

        deferredSnapshotFailures.Add(peer);
        return true;
    }

    /// <summary>A client write is refused before it is proposed while the alarm is raised, as etcd does (any thread).</summary>
    public NodeException? RefuseNewWrite() => Alarm.Active ? ServerErrors.NoSpace() : null;

    /// <summary>A linearizable read cannot be served while the log is blocked (any thread): it fails at once.</summary>
    public NodeException? RefuseNewLinearizableRead() => Alarm.LogBlocked ? ServerErrors.DiskBlocked() : null;

    /// <summary>The apply worker's snapshot found the disk full: raises the alarm; the worker waits for a retry.</summary>
    public void SnapshotWriteFailed(string why) => Alarm.Block(DiskSpaceUse.Snapshot, why);

    /// <summary>The apply worker wrote its snapshot, or no longer needs one: clears its part of the alarm.</summary>
    public void SnapshotNotBlocked()
    {
        if (Alarm.SnapshotBlocked)
        {
            Alarm.Unblock(DiskSpaceUse.Snapshot);
        }
    }

    /// <summary>
    /// How long the caller waits before its next retry, or null while the alarm is clear (the backoff then starts again
    /// from <see cref="FirstRetry"/>).
    /// </summary>
    public TimeSpan? NextRetryDelay()
    {
        if (!Alarm.Active)
        {
            retryDelay = FirstRetry;
            return null;
        }

        return retryDelay;
    }

    /// <summary>A retry was made: the next wait doubles, up to <see cref="MaxRetry"/>.</summary>
    public void RetryAttempted() => retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetry.Ticks));

    private void Blocked(bool wasBlocked, string why)
    {
        Alarm.Block(DiskSpaceUse.Log, why);
        if (!wasBlocked)
        {
            // Reads waiting for the paused core to confirm leadership would wait until they time out: fail them now.
            foreach (var readId in pending.UnconfirmedReads)
            {
                pending.FailRead(readId, ServerErrors.DiskBlocked());
            }
        }
    }
}
