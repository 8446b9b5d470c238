using Bulwark.Api.Mvccpb;
using Bulwark.Consensus;
using Bulwark.Consensus.Membership;
using Bulwark.Kv;
using Bulwark.Kv.Watch;
using Bulwark.Server.Observability;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The state-machine side of the node, on its own thread so a slow apply or a snapshot of a large store never holds
/// up ticks, heartbeats and elections on the Raft loop (as etcd's apply goroutine). It takes <see cref="ApplyWork"/>
/// strictly in order from one queue: applies committed entries to the key-value store, completes the waiting calls
/// and the linearizable reads whose read index it has reached, installs snapshots from the leader, and, every
/// <see cref="NodeHostOptions.SnapshotThreshold"/> entries, starts a snapshot between two batches, which a thread of its
/// own writes while this one goes on applying (<see cref="SnapshotInProgress"/>), and once it is durable tells the loop
/// (through <c>snapshotWritten</c>) that the log may be compacted up to it. A snapshot that finds the disk full is not
/// fatal: the worker raises the NOSPACE alarm (<see cref="DiskFullPolicy.SnapshotWriteFailed"/>) and tries again only when the
/// loop asks (<see cref="ApplyWork.RetrySnapshot"/>).
/// With <see cref="HostDriver.InlineApply"/> (the simulator) there is no thread: <see cref="Enqueue"/> does the work on
/// the caller, in the same order and with the same effects, and an exception propagates to the caller.
/// After each batch, outside the store lock, it publishes the applied revisions' events to the <see cref="Watches"/> hub.
/// </summary>
internal sealed partial class ApplyWorker : IDisposable, IWatchStore
{
    private readonly WorkQueue<ApplyWork> queue = new();
    private readonly NodeHostOptions options;
    private readonly NodeStorage storage;
    private readonly IPeerNetwork network;
    private readonly PendingRequests pending;
    private readonly ILogger logger;
    private readonly MemberTable members;
    private readonly MemberAttributes selfAttributes;
    private readonly DiskFullPolicy diskFull;
    private readonly Action<SnapshotMetadata> snapshotWritten;
    private readonly Action wake;
    private readonly KvStateMachine kv = new();
    private readonly Lock storeLock = new();
    private readonly object progressLock = new();
    private readonly List<ApplyResult> results = [];
    private long leasesGranted;
    private long leasesRevoked;
    private readonly List<(long Revision, IReadOnlyList<Event> Events)> changes = [];
    private readonly HostDriver driver;
    private readonly Thread? thread;

    private IReadOnlyList<ReplicatedAlarm> alarms = [];
    private bool testCorruptionDone;

    private ClusterConfig appliedConfig;
    private ulong applied;
    private ulong appliedTerm;
    private ulong lastSnapshotIndex;
    private ulong finished;
    private int published;
    private int removedSelf;
    private Exception? failure;

    public ApplyWorker(NodeHostOptions options, NodeStorage storage, IPeerNetwork network, PendingRequests pending, ILogger logger,
        MemberTable members, DiskFullPolicy diskFull, Action<SnapshotMetadata> snapshotWritten, Action wake, ClusterConfig initialConfig,
        HostDriver driver)
    {
        this.options = options;
        this.storage = storage;
        this.network = network;
        this.pending = pending;
        this.logger = logger;
        this.members = members;
        this.diskFull = diskFull;
        this.snapshotWritten = snapshotWritten;
        this.wake = wake;
        this.driver = driver;
        selfAttributes = new MemberAttributes(options.NodeId, options.Self.Name, [.. options.AdvertiseClientUrls]);
        appliedConfig = initialConfig;
        if (storage.NewestSnapshot is { } snapshot)
        {
            RestoreFromDisk(snapshot);
            // Alarms restored with the store are not news: this member journalled them when it applied them.
            Volatile.Write(ref alarms, ReadAlarms());
            appliedConfig = snapshot.Config;
            applied = snapshot.Index;
            appliedTerm = snapshot.Term;
        }

        lastSnapshotIndex = applied;
        finished = applied;
        Watches = new WatchHub(this);
        pending.Applied(applied);
        if (!driver.InlineApply)
        {
            thread = new Thread(Run) { IsBackground = true, Name = $"bulwark-apply-{options.NodeId:x}" };
            thread.Start();
        }
    }

    /// <summary>The watchers of this member's applied state.</summary>
    public WatchHub Watches { get; }

    /// <summary>Leases granted and revoked (by a client or by expiry) as this member applied them (etcd's lease counters).</summary>
    public (long Granted, long Revoked) LeaseChanges => (Interlocked.Read(ref leasesGranted), Interlocked.Read(ref leasesRevoked));

    /// <summary>The replicated alarms (CORRUPT) active in the applied state (any thread).</summary>
    public IReadOnlyList<ReplicatedAlarm> Alarms => Volatile.Read(ref alarms);

    /// <summary>The index of the last entry applied to the store (any thread).</summary>
    public ulong Applied => Volatile.Read(ref applied);

    /// <summary>True once this node's own name and client URLs were applied from the log.</summary>
    public bool Published => Volatile.Read(ref published) != 0;

    /// <summary>True once this member applied its own removal from the cluster (or a snapshot that no longer lists it):
    /// it must stop serving.</summary>
    public bool RemovedSelf => Volatile.Read(ref removedSelf) != 0;

    /// <summary>The membership as of the last applied entry (any thread; the loop compares it with the core's to know
    /// whether a membership change is still on its way to the store).</summary>
    public ClusterConfig AppliedConfig => Volatile.Read(ref appliedConfig);

    /// <summary>Why the worker stopped on its own, or null while it is healthy.</summary>
    public Exception? Failure => Volatile.Read(ref failure);

    /// <summary>Called on the worker just before it starts a snapshot at the given index (tests hold it here).</summary>
    public Action<ulong>? BeforeSnapshotWrite { get; set; }

    /// <summary>Called on the snapshot writer's thread between two chunks of keys of the snapshot at the given index
    /// (tests hold the writer here while the worker goes on applying).</summary>
    public Action<ulong>? BetweenSnapshotChunks { get; set; }

    /// <summary>Called on the worker just before it applies a batch of committed entries, with the batch's first index (tests hold it here).</summary>
    public Action<ulong>? BeforeApplyBatch { get; set; }

    public void Enqueue(ApplyWork work)
    {
        if (thread is null)
        {
            if (!queue.IsCompleted)
            {
                Do(work); // inline: nothing is queued, and after Dispose work is dropped as the thread's queue drops it
            }

            return;
        }

        queue.Add(work);
    }

    /// <summary>Reads the key-value store under its lock (any thread).</summary>
    public T Read<T>(Func<MvccStore, T> read)
    {
        lock (storeLock)
        {
            return read(kv.Store);
        }
    }

    /// <summary>Waits until the work up to <paramref name="index"/> is done, snapshot included (tests).</summary>
    public bool WaitUntilDone(ulong index, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (progressLock)
        {
            while (finished < index && Failure is null)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    break;
                }

                Monitor.Wait(progressLock, TimeSpan.FromMilliseconds(Math.Min(left, 100)));
            }

            return finished >= index;
        }
    }

    private void Run()
    {
        try
        {
            while (queue.TryTake(out var work))
            {
                Do(work);
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref failure, e);
            lock (progressLock)
            {
                Monitor.PulseAll(progressLock);
            }

            wake();
        }
    }

    private void Do(ApplyWork work)
    {
        switch (work)
        {
            case ApplyWork.Entries entries:
                BeforeApplyBatch?.Invoke(entries.Committed[0].Index);
                ApplyEntries(entries.Committed);
                break;
            case ApplyWork.Install install:
                Install(install.Snapshot);
                break;
            case ApplyWork.SnapshotNow now:
                SnapshotNow(now.Written);
                break;
            case ApplyWork.SnapshotWritten written:
                if (ReferenceEquals(written.Snapshot, snapshotInProgress))
                {
                    FinishSnapshot(written.Snapshot);
                }

                break;
        }

        StartWaitingDefragment();
        MaybeSnapshot(retry: work is ApplyWork.RetrySnapshot);
        lock (progressLock)
        {
            // Work at or after a snapshot's index is done once the snapshot is written too.
            finished = snapshotInProgress is { } writing ? Math.Min(applied, Math.Max(writing.Metadata.Index, 1) - 1) : applied;
            Monitor.PulseAll(progressLock);
        }
    }

    private void CountLeaseChange(ApplyResult result)
    {
        if (result.Succeeded && result.Response is Bulwark.Api.Etcdserverpb.LeaseGrantResponse)
        {
            Interlocked.Increment(ref leasesGranted);
        }
        else if (result.Succeeded && result.Response is Bulwark.Api.Etcdserverpb.LeaseRevokeResponse)
        {
            Interlocked.Increment(ref leasesRevoked);
        }
    }

    private void ApplyEntries(System.Collections.Immutable.ImmutableArray<Entry> entries)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(entries, PutStage.ApplyStarted);
        }

        results.Clear();
        changes.Clear();
        var last = applied;
        var lastTerm = appliedTerm;
        var alarmsChanged = false;
        var alarmsBefore = Alarms;
        long revision;
        lock (storeLock)
        {
            foreach (var entry in entries)
            {
                if (entry.Index <= last)
                {
                    continue;
                }

                if (entry.Type == EntryType.ConfigChange)
                {
                    ApplyConfigChange(ConfigChange.Decode(entry.Data.Span));
                }
                else if (MemberAttributes.IsAttributesEntry(entry.Data.Span))
                {
                    ApplyAttributes(MemberAttributes.Decode(entry.Data.Span));
                }
                else if (MemberPeerUrlsEntry.IsPeerUrlsEntry(entry.Data.Span))
                {
                    ApplyPeerUrls(MemberPeerUrlsEntry.Decode(entry.Data.Span));
                }
                else if (!entry.Data.IsEmpty)
                {
                    var result = driver.TestFaults.ApplyWithoutPermissionCheck ? ApplyWithoutCaller(entry.Data.Span) : kv.Apply(entry.Data.Span);
                    CountLeaseChange(result);
                    alarmsChanged |= result.Response is Bulwark.Api.Etcdserverpb.AlarmResponse;
                    if (result.OriginMemberId == options.NodeId)
                    {
                        results.Add(result);
                    }

                    if (result.Events.Count > 0)
                    {
                        changes.Add((result.Revision, result.Events));
                    }
                }

                last = entry.Index;
                lastTerm = entry.Term;
                driver.TestObserver?.Applied(entry, appliedConfig, kv.Store);
            }

            CorruptForTestingOnce();

            // Published under the store lock: a reader that sees the new revision also sees the new applied index.
            appliedTerm = lastTerm;
            Volatile.Write(ref applied, last);
            revision = kv.Store.Revision;
            if (alarmsChanged)
            {
                Volatile.Write(ref alarms, ReadAlarms());
            }
        }

        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(entries, PutStage.Applied);
        }

        ReportAlarmChanges(alarmsBefore);

        // etcd_disk_backend_commit_duration_seconds: the store is in memory, so its "commit" is applying the batch.
        options.Observer?.BackendCommitted(System.Diagnostics.Stopwatch.GetElapsedTime(started));

        // Outside the store lock, as the hub requires (its catch-up reads take the store lock under its own).
        foreach (var (changed, events) in changes)
        {
            Watches.Publish(changed, events);
        }

        Watches.Publish(revision, []);

        foreach (var result in results)
        {
            if (PutStageTrace.Enabled)
            {
                PutStageTrace.StampRequest(result.RequestId, PutStage.Completed);
            }

            pending.CompleteProposal(result);
        }

        pending.Applied(last);
    }

    private void Install(Snapshot snapshot)
    {
        // The store the snapshot in progress reads is about to be replaced: let it finish first (installs are rare).
        AwaitSnapshotInProgress();
        var metadata = snapshot.Metadata;
        long bytes;
        if (snapshot.Data.IsEmpty)
        {
            // Streamed to disk by the peer transport (NodeSnapshotFiles): restore from the file, never all in memory.
            bytes = RestoreFromDisk(metadata, installing: true);
        }
        else
        {
            var (membersJson, kvData) = SnapshotPayload.Decode(snapshot.Data);
            var restored = MemberTable.DeserializeTable(membersJson.Span);
            using (var stream = new MemoryStream(kvData.ToArray(), writable: false))
            {
                lock (storeLock)
                {
                    kv.RestoreSnapshot(stream);
                    MarkInstalled(metadata);
                }
            }

            members.Replace(restored.Members, restored.Removed);
            bytes = snapshot.Data.Length;
        }

        // The leader's snapshot may raise or clear an alarm this member had not applied yet.
        var alarmsBefore = Alarms;
        lock (storeLock)
        {
            Volatile.Write(ref alarms, ReadAlarms());
        }

        ReportAlarmChanges(alarmsBefore);

        Watches.StoreReplaced();
        driver.TestObserver?.Installed(metadata);
        lastSnapshotIndex = metadata.Index;
        pending.Applied(metadata.Index);
        foreach (var member in members.All)
        {
            if (member.Id != options.NodeId && member.PeerUrls.Count > 0)
            {
                network.AddPeer(member.Id, member.PeerUrls[0]);
            }
        }

        CheckSelfRemoved();
        HostLog.SnapshotInstalled(logger, metadata.Index, metadata.Term, bytes);
        options.Observer?.SnapshotInstalled(metadata.Index, bytes);
    }

    /// <summary>Publishes an installed snapshot's position (under the store lock, with the restored store).</summary>
    private void MarkInstalled(SnapshotMetadata metadata)
    {
        appliedConfig = metadata.Config;
        appliedTerm = metadata.Term;
        Volatile.Write(ref applied, metadata.Index);
    }

    /// <summary>Restores the store and members from a stored snapshot, streaming it; returns its data bytes.</summary>
    /// <param name="installing">Also publish the snapshot's index as applied (an install, not the start-up restore).</param>
    private long RestoreFromDisk(SnapshotMetadata metadata, bool installing = false)
    {
        using var reader = storage.OpenSnapshot(metadata.Index, metadata.Term);
        var restored = MemberTable.DeserializeTable(SnapshotPayload.ReadMembers(reader));
        lock (storeLock)
        {
            kv.RestoreSnapshot(reader);
            if (installing)
            {
                MarkInstalled(metadata);
            }
        }

        // Reading to the end verifies the file's checksum.
        reader.CopyTo(Stream.Null);
        members.Replace(restored.Members, restored.Removed);
        CheckSelfRemoved();
        return reader.DataLength;
    }

    private IReadOnlyList<ReplicatedAlarm> ReadAlarms() => [.. kv.Store.Alarms.Select(a => new ReplicatedAlarm(a.MemberID, a.Alarm))];

    /// <summary>
    /// Logs and reports each replicated alarm raised or cleared since <paramref name="before"/>. Outside the store lock:
    /// the observer takes its own lock, under which its sampler reads the store.
    /// </summary>
    private void ReportAlarmChanges(IReadOnlyList<ReplicatedAlarm> before)
    {
        var now = Alarms;
        if (ReferenceEquals(now, before))
        {
            return;
        }

        foreach (var raised in now.Except(before))
        {
            CorruptionLog.AlarmRaised(logger, raised.MemberId);
            options.Observer?.ReplicatedAlarm(raised.MemberId, raised.Name, raised: true);
        }

        foreach (var cleared in before.Except(now))
        {
            CorruptionLog.AlarmCleared(logger, cleared.MemberId);
            options.Observer?.ReplicatedAlarm(cleared.MemberId, cleared.Name, raised: false);
        }
    }

    /// <summary>Test-only (<see cref="HostTestFaults.ApplyWithoutPermissionCheck"/>): the command applied with its caller dropped.</summary>
    private ApplyResult ApplyWithoutCaller(ReadOnlySpan<byte> data)
    {
        var command = Bulwark.Api.RaftCmd.RaftCommand.Parser.ParseFrom(data);
        if (command.Header is { } header)
        {
            header.Caller = null;
        }

        return kv.Apply(command);
    }

    /// <summary>The test-only corruption hook (<see cref="NodeHostOptions.TestOnlyCorruptKey"/>); under the store lock.</summary>
    private void CorruptForTestingOnce()
    {
        if (options.TestOnlyCorruptKey is not { } key || testCorruptionDone)
        {
            return;
        }

        if (kv.Store.CorruptValueForTesting(key, System.Text.Encoding.UTF8.GetBytes("corrupted-by-test-only-hook")))
        {
            testCorruptionDone = true;
            CorruptionLog.TestCorruptionDone(logger, System.Text.Encoding.UTF8.GetString(key));
        }
    }

    private void ApplyAttributes(MemberAttributes attributes)
    {
        members.SetAttributes(attributes);
        if (attributes.SameAs(selfAttributes))
        {
            Volatile.Write(ref published, 1);
        }

        HostLog.MemberPublished(logger, attributes.Id, attributes.Name, string.Join(",", attributes.ClientUrls));
    }

    private void ApplyPeerUrls(MemberPeerUrlsEntry update)
    {
        if (!members.SetPeerUrls(update.Id, update.PeerUrls))
        {
            return; // removed meanwhile: every member skips it alike
        }

        if (update.Id != options.NodeId && update.PeerUrls.Length > 0)
        {
            network.AddPeer(update.Id, update.PeerUrls[0]);
        }

        HostLog.MemberPeerUrlsUpdated(logger, update.Id, string.Join(",", update.PeerUrls));
    }

    /// <summary>This member is no longer in the cluster: the loop stops the node (etcd: "the member has been
    /// permanently removed from the cluster").</summary>
    private void CheckSelfRemoved()
    {
        if (members.IsRemoved(options.NodeId))
        {
            Volatile.Write(ref removedSelf, 1);
            wake();
        }
    }

    private void ApplyConfigChange(ConfigChange change)
    {
        // The core's own rule, so the host's membership is the core's at every index (a change without effect for the
        // core, such as adding a voter as a learner, must be one for the host too).
        appliedConfig = MembershipRules.Apply(appliedConfig, change);
        var member = members.Apply(change);
        if (change.NodeId != options.NodeId)
        {
            if (member is { PeerUrls.Count: > 0 })
            {
                network.AddPeer(change.NodeId, member.PeerUrls[0]);
            }
            else if (change.Type == ConfigChangeType.RemoveVoter)
            {
                network.RemovePeer(change.NodeId);
            }
        }

        HostLog.MembershipChanged(logger, change.Type.ToString(), change.NodeId);
        if (change.Type == ConfigChangeType.RemoveVoter && change.NodeId == options.NodeId)
        {
            CheckSelfRemoved();
        }
    }

    /// <summary>Stops taking work, finishes what is queued and waits for the thread.</summary>
    public void Dispose()
    {
        queue.Complete();
        if (thread is not null && Thread.CurrentThread != thread)
        {
            thread.Join();

            // No snapshot file is written after the worker is gone (its report to the loop is dropped with the queue).
            snapshotInProgress?.Writer?.Join();
        }
    }
}
