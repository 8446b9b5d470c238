using Bulwark.Consensus;
using Bulwark.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>The disk-full policy on its own: no storage, no core, no clock (the tests play the caller's time).</summary>
public sealed class DiskFullPolicyTests
{
    private readonly PendingRequests pending = new(1);
    private readonly DiskFullPolicy policy;

    public DiskFullPolicyTests() => policy = new DiskFullPolicy(1, NullLogger.Instance, null, pending);

    private static SnapshotMetadata Snapshot(ulong index) => new(index, 1, ClusterConfig.Of([1]));

    [Fact]
    public void NothingHeldAdmitsEverythingAndHasNoRetry()
    {
        Assert.False(policy.WritesBlocked);
        Assert.True(policy.AdmitsCoreInput);
        Assert.False(policy.RefuseProposal(5));
        Assert.False(policy.RefuseRead(6));
        Assert.False(policy.DeferSnapshotFailure(2));
        Assert.Null(policy.RefuseNewWrite());
        Assert.Null(policy.RefuseNewLinearizableRead());
        Assert.Null(policy.NextRetryDelay());
        Assert.False(policy.Alarm.Active);
    }

    [Fact]
    public void AHeldReadyPausesTheCoreRaisesTheAlarmAndRefusesRequestsWithTheirErrors()
    {
        var proposal = pending.RegisterProposal(10);
        var read = pending.RegisterRead(11);

        policy.HoldReady(new Ready(), "full");

        Assert.True(policy.WritesBlocked);
        Assert.False(policy.AdmitsCoreInput);
        Assert.True(policy.Alarm.Active);
        Assert.True(policy.Alarm.LogBlocked);
        // A read waiting for the paused core to confirm leadership fails at once rather than timing out.
        Assert.Equal(NodeError.DiskBlocked, Assert.IsType<NodeException>(read.Exception?.InnerException).Error);
        Assert.False(proposal.IsCompleted); // in flight: its outcome is unknown, it is never refused

        var queued = pending.RegisterProposal(12);
        var queuedRead = pending.RegisterRead(13);
        Assert.True(policy.RefuseProposal(12));
        Assert.True(policy.RefuseRead(13));
        Assert.Equal(NodeError.NoSpace, Assert.IsType<NodeException>(queued.Exception?.InnerException).Error);
        Assert.Equal(NodeError.DiskBlocked, Assert.IsType<NodeException>(queuedRead.Exception?.InnerException).Error);
        Assert.Equal(NodeError.NoSpace, policy.RefuseNewWrite()?.Error);
        Assert.Equal(NodeError.DiskBlocked, policy.RefuseNewLinearizableRead()?.Error);
    }

    [Fact]
    public void ARetryWritesTheReleaseThenTheReadyThenReportsTheDeferredSnapshotFailuresOncePerPeer()
    {
        var ready = new Ready();
        policy.HoldRelease(Snapshot(9), "full");
        policy.HoldReady(ready, "full");
        Assert.True(policy.DeferSnapshotFailure(3));
        Assert.True(policy.DeferSnapshotFailure(3));
        Assert.True(policy.DeferSnapshotFailure(2));
        var steps = new List<string>();
        var reported = new List<ulong>();

        // Still full: the release fails, so the Ready is not tried and nothing is reported.
        Assert.False(policy.RetryHeld(s => { steps.Add($"release {s.Index}"); return false; }, _ => throw new InvalidOperationException(), _ => { }, reported.Add));
        Assert.True(policy.WritesBlocked);
        Assert.True(policy.Alarm.Active);

        Assert.True(policy.RetryHeld(
            s => { steps.Add($"release {s.Index}"); return true; },
            r => { steps.Add(ReferenceEquals(r, ready) ? "write held" : "write other"); return true; },
            r => { steps.Add("finish"); Assert.False(policy.WritesBlocked); },
            reported.Add));

        Assert.Equal(["release 9", "release 9", "write held", "finish"], steps);
        Assert.Equal([2UL, 3UL], reported.Order());
        Assert.False(policy.WritesBlocked);
        Assert.False(policy.Alarm.Active);

        // Nothing is deferred twice.
        reported.Clear();
        policy.HoldReady(ready, "full");
        Assert.True(policy.RetryHeld(_ => true, _ => true, _ => { }, reported.Add));
        Assert.Empty(reported);
    }

    [Fact]
    public void TheBackoffDoublesFromAHundredMillisecondsToTwoSecondsAndStartsOverOnceClear()
    {
        policy.HoldReady(new Ready(), "full");
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            waits.Add(policy.NextRetryDelay() ?? TimeSpan.Zero);
            policy.RetryAttempted();
        }

        Assert.Equal([100, 200, 400, 800, 1600, 2000, 2000], waits.Select(w => (int)w.TotalMilliseconds));

        Assert.True(policy.RetryHeld(_ => true, _ => true, _ => { }, _ => { }));
        Assert.Null(policy.NextRetryDelay());
        policy.HoldReady(new Ready(), "full again");
        Assert.Equal(DiskFullPolicy.FirstRetry, policy.NextRetryDelay());
    }

    [Fact]
    public void ASnapshotTheWorkerCouldNotWriteRaisesTheAlarmAndRefusesWritesButDoesNotPauseTheCore()
    {
        policy.SnapshotWriteFailed("full");

        Assert.True(policy.SnapshotBlocked);
        Assert.True(policy.Alarm.Active);
        Assert.False(policy.WritesBlocked);
        Assert.True(policy.AdmitsCoreInput);
        Assert.Equal(NodeError.NoSpace, policy.RefuseNewWrite()?.Error);
        Assert.Null(policy.RefuseNewLinearizableRead());
        Assert.Equal(DiskFullPolicy.FirstRetry, policy.NextRetryDelay());

        policy.SnapshotNotBlocked();
        Assert.False(policy.SnapshotBlocked);
        Assert.False(policy.Alarm.Active);
        Assert.Null(policy.NextRetryDelay());
    }
}
