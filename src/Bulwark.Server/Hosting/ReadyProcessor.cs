using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Observability;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The Raft loop's side of the node: owns the <see cref="RaftNode"/> and turns each <see cref="Ready"/> into sends, one
/// durable write and hand-offs to the <see cref="ApplyWorker"/>, in the order <see cref="Ready"/> documents: Messages
/// are sent, the batch is persisted with one sync, MessagesAfterPersist are sent, a snapshot from the leader and the
/// CommittedEntries go to the apply queue, ReadStates are registered to complete once the worker's applied index
/// reaches them, then Advance. Applying, answering calls and writing snapshots happen on the worker, so a slow state
/// machine never stalls ticks, heartbeats or elections. The worker reports written snapshots back, and the loop (the
/// only user of the core and the log) compacts the core and releases the log to them.
/// A full disk is not fatal (an fsync error is): a Ready whose persist fails with <see cref="DiskFullException"/> is
/// held, not advanced, and the core gets no further input until <see cref="RetryDiskFull"/> persists it (the driver
/// retries after <see cref="DiskFullPolicy.NextRetryDelay"/>); what is held, what input is dropped or refused meanwhile
/// and the NOSPACE alarm are <see cref="DiskFull"/>'s (<see cref="DiskFullPolicy"/>). See docs/storage.md, "Disk full".
/// No sockets or timers: <see cref="NodeHost"/> drives it from one loop, and a test can drive it directly. The
/// deterministic simulator drives it too (<see cref="HostDriver"/>): one Ready at a time in two phases,
/// <see cref="BeginReady"/> (send, write) and <see cref="CompleteReady"/> (sync, the rest), with its simulated sync
/// latency, and crashes, in between. NodeHost runs both phases back to back.
/// Not thread-safe, except <see cref="Read{T}"/> and <see cref="Status"/>.
/// </summary>
public sealed partial class ReadyProcessor : IDisposable
{
    /// <summary>
    /// How far applying may fall behind what the loop has handed over before new proposals are refused with
    /// "etcdserver: too many requests" (etcd's maxGapBetweenApplyAndCommitIndex).
    /// </summary>
    public const ulong MaxApplyLag = 5000;

    private const int PublishRetryTicks = 20;

    private readonly NodeHostOptions options;
    private readonly NodeStorage storage;
    private readonly IPeerNetwork network;
    private readonly PendingRequests pending;
    private readonly ILogger logger;
    private readonly RaftNode node;
    private readonly ApplyWorker worker;
    private readonly MemberAttributes selfAttributes;
    private readonly Action wake;
    private readonly HostDriver driver;
    private readonly ConcurrentQueue<SnapshotMetadata> snapshotsWritten = new();

    /// <summary>The newest index queued for the apply worker (entries or an installed snapshot); how far it may run ahead of the worker's applied index is bounded by <see cref="MaxApplyLag"/>.</summary>
    private ulong queuedForApply;
    /// <summary>
    /// Applying up to here is catching up, not load: the commit index this member recovered at start (a restart
    /// re-applies everything since its last snapshot, up to SnapshotThreshold entries) and any snapshot it installed.
    /// While the apply lag is made of such entries, proposals are refused as <see cref="NodeError.CatchingUp"/> rather
    /// than "too many requests", which is kept for real overload (issue 15).
    /// </summary>
    private ulong catchUpTarget;
    /// <summary>The newest snapshot the core knows (the log keeps up to SnapshotCatchUpEntries entries behind it).</summary>
    private ulong compacted;
    private SoftState soft;
    private ulong previousLeader;
    private int ticksSincePublish = PublishRetryTicks;
    private NodeStatus status;
    private Ready? written;
    private long persistStarted;

    /// <param name="wake">Called from other threads when the loop has something to do outside a Ready (a snapshot was
    /// written, the apply worker failed); the loop then calls <see cref="ProcessReadies"/>.</param>
    /// <param name="driver">How the host is driven; null is <see cref="HostDriver.Production"/>.</param>
    public ReadyProcessor(NodeHostOptions options, NodeStorage storage, IPeerNetwork network, PendingRequests pending, ILogger logger, Action? wake = null,
        HostDriver? driver = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        this.options = options;
        this.storage = storage;
        this.network = network;
        this.pending = pending;
        this.logger = logger;
        this.wake = wake ?? (() => { });
        this.driver = driver ?? HostDriver.Production;
        Members = new MemberTable(options.InitialCluster);
        Leases = new LeaseKeeper(options.HeartbeatInterval, options.ElectionTicks);
        DiskFull = new DiskFullPolicy(options.NodeId, logger, options.Observer, pending);
        selfAttributes = new MemberAttributes(options.NodeId, options.Self.Name, [.. options.AdvertiseClientUrls]);

        var initialConfig = this.driver.BootstrapConfig ?? options.BootstrapConfig ?? ClusterConfig.Of([.. options.InitialCluster.Select(m => m.Id)]);
        BootstrapConfig = initialConfig;
        var bootstrap = storage.IsEmpty;
        var state = storage.BuildRaftState(initialConfig);
        worker = new ApplyWorker(options, storage, network, pending, logger, Members, DiskFull, OnSnapshotWritten, this.wake, initialConfig, this.driver);
        queuedForApply = state.Applied;
        catchUpTarget = state.HardState.Commit;
        compacted = state.Snapshot?.Index ?? 0;

        var seed = options.RandomSeed != 0 ? options.RandomSeed : (int)(options.NodeId ^ (options.NodeId >> 32));
        var config = new RaftConfig
        {
            Id = options.NodeId,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = 1,
            PreVote = true,
            CheckQuorum = true,
            MaxUncommittedBytes = 64L << 20,
            NoProgressTicks = options.GrayFailure.NoProgressTicks(options.ElectionTicks),
        };
        node = new RaftNode(this.driver.ConfigureCore?.Invoke(config) ?? config, state, this.driver.Random ?? new SeededRandom(seed));
        clock = this.driver.Time ?? TimeProvider.System;
        var gray = options.GrayFailure;
        leaderSilence = gray.LeaderSuspicion ? new Health.LeaderSilenceDetector(options.HeartbeatInterval, gray.LeaderSuspectPhi, gray.MinSilenceHeartbeats, gray.MinSilence) : null;
        selfHealth = gray.HealthTransfer ? new Health.LeaderHealthMonitor(gray) : null;
        soft = new SoftState(0, Role.Follower, state.HardState.Term);
        status = BuildStatus();
        HostLog.Started(logger, options.NodeId, options.Self.Name, options.EffectiveClusterId, state.HardState.Term,
            state.HardState.Commit, state.Snapshot?.Index ?? 0, state.Entries.Length, bootstrap);
    }

    public MemberTable Members { get; }

    /// <summary>Lease deadlines, kept while this member leads; expired leases are revoked through the log.</summary>
    public LeaseKeeper Leases { get; }

    /// <summary>What this member does about a full disk: held writes, input while they are held, the retry backoff and
    /// the NOSPACE alarm (<see cref="DiskFullPolicy.Alarm"/>, any thread).</summary>
    public DiskFullPolicy DiskFull { get; }

    /// <summary>This member's NOSPACE alarm (any thread).</summary>
    public DiskSpaceAlarm DiskSpace => DiskFull.Alarm;

    /// <summary>
    /// True while a write to the log failed for lack of space and is held (loop only): the core gets no input (ticks,
    /// messages and hints are dropped, proposals and reads refused) until <see cref="RetryDiskFull"/> succeeds.
    /// </summary>
    public bool WritesBlocked => DiskFull.WritesBlocked;

    private void OnSnapshotWritten(SnapshotMetadata written)
    {
        snapshotsWritten.Enqueue(written);
        wake();
    }

    /// <summary>The newest published status with the apply worker's current applied index (safe to read from any thread).</summary>
    /// <remarks>
    /// The worker may apply (and answer) entries before the loop publishes the Ready's status: an applied entry is
    /// committed and logged, so commit and last index are never reported below the applied index.
    /// </remarks>
    public NodeStatus Status
    {
        get
        {
            var published = Volatile.Read(ref status);
            var applied = worker.Applied;
            return published with
            {
                NoSpaceAlarm = DiskSpace.Active,
                CorruptAlarm = worker.Alarms.Any(a => a.Alarm == Bulwark.Api.Etcdserverpb.AlarmType.Corrupt),
                Applied = applied,
                Commit = Math.Max(published.Commit, applied),
                LastIndex = Math.Max(published.LastIndex, applied),
            };
        }
    }

    /// <summary>Reads the key-value store under its lock (any thread).</summary>
    public T Read<T>(Func<MvccStore, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return worker.Read(read);
    }

    /// <summary>The watchers of this member's applied state.</summary>
    public Bulwark.Kv.Watch.WatchHub Watches => worker.Watches;

    /// <summary>The replicated alarms (CORRUPT) in the applied state (any thread).</summary>
    public IReadOnlyList<ReplicatedAlarm> ReplicatedAlarms => worker.Alarms;

    /// <summary>Leases granted and revoked as this member applied them.</summary>
    public (long Granted, long Revoked) LeaseChanges => worker.LeaseChanges;

    /// <summary>Test hook: runs on the apply worker just before it starts a snapshot at the given index.</summary>
    internal Action<ulong>? BeforeSnapshotWrite
    {
        get => worker.BeforeSnapshotWrite;
        set => worker.BeforeSnapshotWrite = value;
    }

    /// <summary>Test hook: runs on the snapshot writer's thread between two chunks of keys of the snapshot at the given index.</summary>
    internal Action<ulong>? BetweenSnapshotChunks
    {
        get => worker.BetweenSnapshotChunks;
        set => worker.BetweenSnapshotChunks = value;
    }

    /// <summary>Test hook: runs on the apply worker just before it applies a batch of committed entries (first index given).</summary>
    internal Action<ulong>? BeforeApplyBatch
    {
        get => worker.BeforeApplyBatch;
        set => worker.BeforeApplyBatch = value;
    }

    /// <summary>The index of the last entry applied to the store (any thread).</summary>
    public ulong Applied => worker.Applied;

    /// <summary>The core's full status: membership, replication progress (loop only).</summary>
    public RaftStatus CoreStatus() => node.Status();

    /// <summary>Waits until the apply worker finished everything up to <paramref name="index"/> (tests).</summary>
    internal bool WaitUntilApplied(ulong index, TimeSpan timeout) => worker.WaitUntilDone(index, timeout);

    /// <summary>Ticks the core; dropped while writes are held (<see cref="DiskFullPolicy.AdmitsCoreInput"/>).</summary>
    public void Tick()
    {
        if (!DiskFull.AdmitsCoreInput)
        {
            return;
        }

        TakeWorkerReports();
        GrayFailureTick();
        node.Tick();
        GrayFailureNoProgressNotices();
        ticksSincePublish++;
        MaybePublishAttributes();
        Leases.Tick(soft.Role == Role.Leader, () => worker.Read(static s => s.LeaseGrants()), ProposeLeaseRevoke);
    }

    /// <summary>Revokes an expired lease through the log; nobody waits for the answer (request id 0).</summary>
    private void ProposeLeaseRevoke(long id)
    {
        var command = new Bulwark.Api.RaftCmd.RaftCommand
        {
            LeaseRevoke = new Bulwark.Api.Etcdserverpb.LeaseRevokeRequest { ID = id },
            Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = options.NodeId },
        };
        Propose(0, Google.Protobuf.MessageExtensions.ToByteArray(command));
    }

    // While writes are held the core is paused: peer messages and transport hints are dropped (Raft treats them as
    // lost), a failed snapshot send is deferred until the retry worked (DiskFullPolicy).
    public void Step(Message message)
    {
        if (DiskFull.AdmitsCoreInput)
        {
            GrayFailureStepped(message);
            node.Step(message);
            if (PutStageTrace.Enabled)
            {
                PutStageTrace.Stepped(message);
            }

            GrayFailureNoProgressNotices();
        }
    }

    public void ReportUnreachable(ulong peer)
    {
        if (DiskFull.AdmitsCoreInput)
        {
            node.ReportUnreachable(peer);
        }
    }

    public void ReportConnectionLost(ulong peer)
    {
        if (DiskFull.AdmitsCoreInput)
        {
            node.ReportConnectionLost(peer);
        }
    }

    /// <summary>
    /// The transport wrote the whole snapshot to <paramref name="peer"/>. Dropped while writes are held: the core then
    /// falls back on its snapshot send timeout.
    /// </summary>
    public void ReportSnapshotSent(ulong peer)
    {
        if (DiskFull.AdmitsCoreInput)
        {
            node.ReportSnapshotSent(peer);
        }
    }

    public void ReportSnapshotFailure(ulong peer)
    {
        if (!DiskFull.DeferSnapshotFailure(peer))
        {
            node.ReportSnapshotFailure(peer);
        }
    }

    /// <summary>Starts an election now (operators and tests); dropped while writes are held.</summary>
    public void Campaign()
    {
        if (DiskFull.AdmitsCoreInput)
        {
            node.Campaign();
        }
    }

    /// <summary>
    /// A client's membership change (etcd's Cluster API), on the leader: refused with a <see cref="MembershipException"/>
    /// when <see cref="ReconfigurationCheck"/> says no (nothing reaches the log), with <see cref="ReconfigurationBusyException"/>
    /// while an earlier change is not yet applied here (the caller tries again), else proposed; its caller, waiting under
    /// <paramref name="changeId"/>, completes once the entry is applied on this member.
    /// </summary>
    public void ChangeMembership(ulong changeId, MembershipRequest request, IReadOnlySet<ulong> connected)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(connected);
        if (!DiskFull.AdmitsCoreInput)
        {
            pending.FailChange(changeId, ServerErrors.NoSpace());
            return;
        }

        var core = node.Status();
        if (core.SoftState.Role != Role.Leader)
        {
            pending.FailChange(changeId, core.SoftState.Leader == 0 ? ServerErrors.NoLeader() : ServerErrors.LeaderChanged());
            return;
        }

        // The member table is the applied state: decide only once every change the core knows of reached it, so two
        // changes can never both pass against the same old table.
        if (!worker.AppliedConfig.Equals(core.Config))
        {
            pending.FailChange(changeId, new ReconfigurationBusyException());
            return;
        }

        var view = new ReconfigurationView(options.NodeId, Members.All, Members.Removed, core.Progress, connected);
        if (ReconfigurationCheck.Check(request, view) is { } refusal)
        {
            HostLog.MembershipRefused(logger, request.ToString(), refusal.Detail);
            pending.FailChange(changeId, new MembershipException(refusal.Error, refusal.Detail));
            return;
        }

        var result = request switch
        {
            MembershipRequest.Update update => node.Propose(new MemberPeerUrlsEntry(update.Id, [.. update.PeerUrls]).Encode()),
            MembershipRequest.Add add => node.ProposeConfigChange(new ConfigChange(
                add.IsLearner ? ConfigChangeType.AddLearner : ConfigChangeType.AddVoter, add.NewId, MemberTable.EncodeContext("", add.PeerUrls))),
            MembershipRequest.Remove remove => node.ProposeConfigChange(new ConfigChange(ConfigChangeType.RemoveVoter, remove.Id)),
            MembershipRequest.Promote promote => node.ProposeConfigChange(new ConfigChange(ConfigChangeType.PromoteLearner, promote.Id)),
            _ => throw new ArgumentException($"unknown membership request {request.GetType().Name}", nameof(request)),
        };
        switch (result.Status)
        {
            case ProposeStatus.Accepted:
                pending.ChangeProposed(changeId, result.Index, worker.Applied);
                break;
            case ProposeStatus.ConfigChangeInProgress or ProposeStatus.TransferInProgress:
                pending.FailChange(changeId, new ReconfigurationBusyException());
                break;
            default:
                pending.FailChange(changeId, ErrorFor(result.Status) ?? ServerErrors.LeaderChanged());
                break;
        }
    }

    /// <summary>
    /// Before this leader is removed: starts handing leadership to the connected voter whose log is furthest along
    /// (etcd's MoveLeader to the most caught-up member); returns it, or 0 when this member does not lead or no voter
    /// can take over.
    /// </summary>
    public ulong HandOverLeadership(IReadOnlySet<ulong> connected)
    {
        ArgumentNullException.ThrowIfNull(connected);
        var core = node.Status();
        if (core.SoftState.Role != Role.Leader || !DiskFull.AdmitsCoreInput)
        {
            return 0;
        }

        var target = core.Progress
            .Where(p => p.Id != options.NodeId && core.Config.Voters.Contains(p.Id) && connected.Contains(p.Id))
            .OrderByDescending(p => p.Match)
            .Select(p => p.Id)
            .FirstOrDefault();
        if (target != 0)
        {
            HostLog.HandingOverBeforeRemoval(logger, target, options.NodeId);
            node.TransferLeadership(target);
        }

        return target;
    }

    /// <summary>True once this member applied its own removal: the loop stops the node.</summary>
    public bool RemovedFromCluster => worker.RemovedSelf;

    /// <summary>The membership this member bootstrapped from (told to members that join, see <see cref="ClusterJoin"/>).</summary>
    public ClusterConfig BootstrapConfig { get; private set; } = ClusterConfig.Of();

    /// <summary>Proposes a membership change (the simulator); refused while writes are held.</summary>
    public ProposeResult ProposeConfigChange(ConfigChange change) =>
        DiskFull.AdmitsCoreInput ? node.ProposeConfigChange(change) : new ProposeResult(ProposeStatus.NoLeader);

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/> (Maintenance.MoveLeader and the simulator).</summary>
    public void TransferLeadership(ulong target)
    {
        if (DiskFull.AdmitsCoreInput)
        {
            node.TransferLeadership(target);
        }
    }

    /// <summary>
    /// Proposes a command; its caller waits in <see cref="PendingRequests"/> under <paramref name="requestId"/>. Refused
    /// with "etcdserver: too many requests" while applying lags more than <see cref="MaxApplyLag"/> entries behind (as
    /// <see cref="NodeError.CatchingUp"/> while that lag is a restart's replay or an installed snapshot), and
    /// with NoSpace while writes are held.
    /// </summary>
    public void Propose(ulong requestId, byte[] data)
    {
        if (DiskFull.RefuseProposal(requestId))
        {
            return;
        }

        if (queuedForApply > worker.Applied + MaxApplyLag)
        {
            pending.FailProposal(requestId, (worker.Applied < catchUpTarget ? ServerErrors.CatchingUp() : ServerErrors.TooManyRequests()).AsNeverProposed());
            return;
        }

        var result = node.Propose(data);
        if (PutStageTrace.Enabled && result.Status == ProposeStatus.Accepted)
        {
            PutStageTrace.Proposed(requestId, result.Index);
        }

        var error = ErrorFor(result.Status);
        if (error is not null)
        {
            // The core took nothing (only Accepted and Forwarded enter a log).
            pending.FailProposal(requestId, error.AsNeverProposed());
        }
    }

    /// <summary>
    /// A client request this follower forwarded to its leader was dropped by the transport before a byte of it was
    /// sent (the leader was unreachable: typically its process just died and this follower has not yet confirmed the
    /// loss). No member appended or answered it, so its caller is failed now with a retryable "no leader" instead of
    /// waiting out the request timeout; a client then tries another member. Requests of other members (a leader
    /// forwards nothing) and entries that are not our commands are ignored.
    /// </summary>
    public void FailUndeliveredRequest(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.From != options.NodeId)
        {
            return;
        }

        switch (message.Type)
        {
            case MessageType.Propose:
                foreach (var entry in message.Entries)
                {
                    if (entry.Type == EntryType.Normal && TryReadRequestId(entry.Data, out var requestId))
                    {
                        pending.FailProposal(requestId, ServerErrors.NoLeader());
                    }
                }

                break;
            case MessageType.ReadIndex when message.Context.Length == sizeof(ulong):
                pending.FailRead(BinaryPrimitives.ReadUInt64LittleEndian(message.Context.Span), ServerErrors.NoLeader());
                break;
        }
    }

    private bool TryReadRequestId(ReadOnlyMemory<byte> data, out ulong requestId)
    {
        requestId = 0;
        try
        {
            var command = Bulwark.Api.RaftCmd.RaftCommand.Parser.ParseFrom(data.Span);
            if (command.Header?.OriginMemberId != options.NodeId)
            {
                return false;
            }

            requestId = command.RequestId;
            return requestId != 0;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>Asks for a linearizable read point; its caller waits in <see cref="PendingRequests"/> under <paramref name="readId"/>.</summary>
    /// <remarks>Fails at once with DiskBlocked while writes are held.</remarks>
    public void ReadIndex(ulong readId)
    {
        if (DiskFull.RefuseRead(readId))
        {
            return;
        }

        var context = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(context, readId);
        var result = node.ReadIndex(context);
        var error = ErrorFor(result.Status);
        if (error is not null)
        {
            pending.FailRead(readId, error);
        }
    }

    /// <summary>
    /// Takes what the apply worker reported, then handles every Ready the core has. While <see cref="WritesBlocked"/>
    /// only the worker's health is checked.
    /// </summary>
    /// <exception cref="Exception">The apply worker failed (its exception, rethrown): the node must stop.</exception>
    public void ProcessReadies()
    {
        TakeWorkerReports();
        while (Begin() is not null)
        {
            CompleteReady();
        }
    }

    /// <summary>
    /// Phase 1 of one Ready, for a driver that puts time between the phases (the simulator): takes what the apply
    /// worker reported, then takes the core's next Ready, sends its Messages and writes its snapshot, entries and
    /// hard state without syncing. Until <see cref="CompleteReady"/> the core may take input but no further Ready.
    /// </summary>
    /// <returns>The Ready written and waiting for <see cref="CompleteReady"/>; null when there is none, one is already
    /// waiting, or the write is held for lack of space (<see cref="WritesBlocked"/>).</returns>
    public Ready? BeginReady()
    {
        TakeWorkerReports();
        return Begin();
    }

    /// <summary>
    /// Phase 2 of the Ready <see cref="BeginReady"/> wrote: one sync (if it must), then its after-persist messages,
    /// hand-offs to the apply worker, read states and Advance.
    /// </summary>
    public void CompleteReady()
    {
        var ready = written ?? throw new InvalidOperationException("no Ready is written and waiting for its sync");
        storage.Sync(ready);
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(ready.Entries, PutStage.Synced);
        }

        var persisted = clock.GetElapsedTime(persistStarted);
        options.Observer?.Persisted(persisted, ready.MustSync);
        if (ready.MustSync)
        {
            GrayFailureSynced(persisted);
        }
        written = null;
        FinishReady(ready);
    }

    /// <summary>
    /// One retry of what a full disk held back (the driver calls it after <see cref="DiskFullPolicy.NextRetryDelay"/>):
    /// asks the apply worker to try its snapshot again if that was stopped, then tries a held log release and the held
    /// Ready, which on success is finished exactly as if its first persist had worked (its after-persist messages are
    /// sent, its committed entries applied, then Advance); the deferred snapshot-send failures are reported then. The
    /// next retry's wait doubles.
    /// </summary>
    public void RetryDiskFull()
    {
        if (DiskFull.SnapshotBlocked)
        {
            worker.Enqueue(ApplyWork.RetrySnapshot.Instance);
        }

        if (DiskFull.WritesBlocked && DiskFull.RetryHeld(TryRelease, TryWrite, CompleteHeld, node.ReportSnapshotFailure))
        {
            Volatile.Write(ref status, BuildStatus());
        }

        DiskFull.RetryAttempted();
    }

    /// <summary>A held Ready a retry wrote: synced and finished as if its first write had worked.</summary>
    private void CompleteHeld(Ready ready)
    {
        Written(ready);
        CompleteReady();
    }

    private static NodeException? ErrorFor(ProposeStatus status) => status switch
    {
        ProposeStatus.Accepted or ProposeStatus.Forwarded => null,
        ProposeStatus.NoLeader => ServerErrors.NoLeader(),
        ProposeStatus.TooManyUncommitted => ServerErrors.TooManyRequests(),
        _ => ServerErrors.LeaderChanged(),
    };

    private void TakeWorkerReports()
    {
        if (worker.Failure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        // Not while a Ready is written but unsynced: the log is released only between Readies, as in NodeHost.
        var changed = false;
        while (!WritesBlocked && written is null && snapshotsWritten.TryDequeue(out var snapshot))
        {
            TryRelease(snapshot);
            changed = true;
        }

        if (changed)
        {
            Volatile.Write(ref status, BuildStatus());
        }
    }

    /// <summary>
    /// Releases the log and compacts the core up to a snapshot the worker wrote, keeping
    /// <see cref="NodeHostOptions.SnapshotCatchUpEntries"/> entries behind it for followers that lag a little; false (and
    /// the release held, alarm raised) when the log has no room for the release's marker.
    /// </summary>
    private bool TryRelease(SnapshotMetadata written)
    {
        // The worker wrote this snapshot after applying up to its index, so the core may forget what it covers.
        // A snapshot installed from the leader meanwhile may already have moved the core past it.
        if (written.Index <= compacted)
        {
            return true;
        }

        try
        {
            storage.ReleaseLogUpTo(written.Index - Math.Min(options.SnapshotCatchUpEntries, written.Index));
        }
        catch (DiskFullException e)
        {
            DiskFull.HoldRelease(written, e.Message);
            return false;
        }

        node.Compact(written.Index, options.SnapshotCatchUpEntries);
        compacted = written.Index;
        return true;
    }

    /// <summary>Phase 1 without taking the worker's reports (see <see cref="BeginReady"/>).</summary>
    private Ready? Begin()
    {
        if (WritesBlocked || written is not null || !node.HasReady)
        {
            return null;
        }

        var ready = node.GetReady();
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(ready.Entries, PutStage.ReadyTaken);
        }

        if (ready.SoftState is { } newSoft)
        {
            OnSoftState(newSoft);
        }

        foreach (var message in ready.Messages)
        {
            Send(message);
        }

        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(ready.Entries, PutStage.AppendsHanded);
        }

        if (!TryWrite(ready))
        {
            // Not advanced (TryWrite held it): the core keeps this Ready outstanding and gets no input until the retry works.
            return null;
        }

        if (PutStageTrace.Enabled)
        {
            PutStageTrace.StampEntries(ready.Entries, PutStage.WalWritten);
        }

        Written(ready);
        return ready;
    }

    /// <summary>A Ready's write went through (first try or a retry): it waits for its sync.</summary>
    private void Written(Ready ready)
    {
        written = ready;
        driver.TestObserver?.Written(ready);
        if (driver.TestFaults.AckBeforePersist)
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                Send(message);
            }
        }
    }

    /// <summary>Writes a Ready without its sync; false (the Ready held, alarm raised, nothing of it readable as valid) when the disk is full.</summary>
    private bool TryWrite(Ready ready)
    {
        persistStarted = clock.GetTimestamp();
        try
        {
            storage.Write(driver.TestFaults.VoteNotPersisted && ready.HardState is { } hard ? ready with { HardState = hard with { Vote = 0 } } : ready);
        }
        catch (DiskFullException e)
        {
            DiskFull.HoldReady(ready, e.Message);
            return false;
        }

        return true;
    }

    /// <summary>The part of a Ready that follows its persist, ending with Advance.</summary>
    private void FinishReady(Ready ready)
    {
        if (ready.Snapshot is { Metadata.Index: > 0 } snapshot)
        {
            // Queued behind every earlier batch: the worker installs it only after applying what came before.
            worker.Enqueue(new ApplyWork.Install(snapshot));
            queuedForApply = Math.Max(queuedForApply, snapshot.Metadata.Index);
            catchUpTarget = Math.Max(catchUpTarget, snapshot.Metadata.Index);
            compacted = Math.Max(compacted, snapshot.Metadata.Index);
        }

        if (!driver.TestFaults.AckBeforePersist)
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                Send(message);
                if (PutStageTrace.Enabled)
                {
                    PutStageTrace.AckHanded(message);
                }
            }
        }

        if (!ready.CommittedEntries.IsEmpty)
        {
            if (PutStageTrace.Enabled)
            {
                PutStageTrace.StampEntries(ready.CommittedEntries, PutStage.CommitHanded);
            }

            worker.Enqueue(new ApplyWork.Entries(ready.CommittedEntries));
            queuedForApply = Math.Max(queuedForApply, ready.CommittedEntries[^1].Index);
        }

        foreach (var read in ready.ReadStates)
        {
            if (read.Context.Length == 8)
            {
                pending.ReadConfirmed(BinaryPrimitives.ReadUInt64LittleEndian(read.Context.Span), read.Index, worker.Applied);
            }
        }

        node.Advance(ready);
        if (ready.SoftState is { Leader: not 0 } changed && changed.Leader != previousLeader)
        {
            // The core drops unanswered read requests when leadership moves; ask again under the new leader.
            foreach (var readId in pending.UnconfirmedReads)
            {
                ReadIndex(readId);
            }
        }

        previousLeader = soft.Leader;
        Volatile.Write(ref status, BuildStatus());
    }

    private void OnSoftState(SoftState next)
    {
        if (next.Role != soft.Role)
        {
            if (next.Role == Role.Leader)
            {
                HostLog.BecameLeader(logger, options.NodeId, next.Term);
            }
            else
            {
                HostLog.BecameFollower(logger, options.NodeId, next.Role.ToString(), next.Term, next.Leader);
            }
        }

        if (next.Leader != soft.Leader)
        {
            HostLog.LeaderChanged(logger, soft.Leader, next.Leader, next.Term);
            options.Observer?.LeaderChanged(soft.Leader, next.Leader, next.Term);
        }

        if (next.Role != soft.Role || next.Term != soft.Term)
        {
            Leases.LeadershipChanged(next.Role == Role.Leader, () => worker.Read(static s => s.LeaseGrants()));
        }

        soft = next;
    }

    /// <remarks>
    /// A snapshot message from the core has empty data and names exactly the snapshot the core compacted to (the worker
    /// may already have written a newer one the core does not know yet): the peer transport streams that file from
    /// disk in chunks on its own task (<see cref="NodeSnapshotFiles"/>), and reports a failure (file gone, connection
    /// lost) through its SnapshotSendFailed event.
    /// </remarks>
    private void Send(Message message)
    {
        GrayFailureSending(message);
        network.Send(message);
    }

    private void MaybePublishAttributes()
    {
        if (worker.Published || ticksSincePublish < PublishRetryTicks || soft.Leader == 0)
        {
            return;
        }

        ticksSincePublish = 0;
        node.Propose(selfAttributes.Encode());
    }

    private NodeStatus BuildStatus()
    {
        var s = node.Status();
        return new NodeStatus(options.NodeId, s.SoftState.Leader, s.SoftState.Role, s.SoftState.Term, s.HardState.Commit,
            worker.Applied, s.LastIndex, compacted);
    }

    /// <summary>Stops the apply worker after it finished the work already queued.</summary>
    public void Dispose() => worker.Dispose();
}
