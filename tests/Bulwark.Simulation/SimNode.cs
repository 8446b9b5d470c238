using Bulwark.Api.RaftCmd;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Kv.Auth;
using Bulwark.Kv.Errors;
using Bulwark.Server.Health;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;
using Bulwark.Verification;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Simulation;

/// <summary>
/// One simulated node running the production host: <see cref="ReadyProcessor"/> over <see cref="NodeStorage"/> (the
/// write-ahead log and snapshot store on an <see cref="InMemoryFileSystem"/> whose crashes lose unsynced writes), the
/// apply worker inline, and the shipped key-value store. What stays here is simulation: virtual time
/// (ticks, the sync's latency between a Ready's two phases), the simulated network, crashes, and the client calls.
/// A crash drops the host and everything in memory; a restart recovers through the production path
/// (<see cref="NodeStorage.Open"/>, <see cref="NodeStorage.BuildRaftState"/>, the worker's snapshot restore).
/// </summary>
public sealed class SimNode : IHostTestObserver
{
    private const string DataDir = "/data";

    /// <summary>Attempts the API makes at a command auth keeps refusing as stale (ApiContext.MaxAuthRetries).</summary>
    private const int MaxAuthAttempts = 5;
    private static readonly WalOptions SmallSegments = new() { SegmentSize = 64 * 1024 };
    // With disk-full faults, segments of the smallest size: the log needs a new one (and so finds the disk full) often.
    private static readonly WalOptions TinySegments = new() { SegmentSize = 4096, WriteBufferSize = 4096 };

    private readonly SimWorld world;
    private readonly NodeHostOptions options;
    private readonly HostDriver driver;
    private readonly ClusterConfig founding;
    private readonly InMemoryFileSystem fs;
    private readonly SimPeerNetwork network;
    private readonly bool txnIgnoresCompare;
    private readonly DeterministicRandom crashes;
    private readonly WalOptions wal;
    private readonly List<(Task Call, Action OnDone)> waiting = [];
    private ReadyProcessor? host;
    private NodeSnapshotFiles? snapshotFiles;
    private PendingRequests? pending;
    private LogMirror log = new();
    private int incarnation;
    private bool readyInFlight;
    private Role role;
    private ulong lastCommit;
    private int diskFills;
    private bool diskRetryScheduled;
    private bool writesHeld;

    /// <param name="core">The core's settings for this run (pre-vote, check-quorum, limits, test faults).</param>
    /// <param name="founding">The founding membership: every node, founding or joining later, bootstraps from it.</param>
    /// <param name="snapshotThreshold">Applied entries between the host's own snapshots.</param>
    /// <param name="fsSeed">Seed of the file system's crash behaviour.</param>
    /// <param name="nominalTick">Virtual microseconds a tick stands for (the host's heartbeat interval, which the lease
    /// keeper counts in); <paramref name="tickInterval"/> is how often this node's skewed clock really ticks.</param>
    public SimNode(SimWorld world, RaftConfig core, ClusterConfig founding, ulong snapshotThreshold, int fsSeed, long tickInterval, long nominalTick)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(core);
        ArgumentNullException.ThrowIfNull(founding);
        this.world = world;
        this.founding = founding;
        Id = core.Id;
        TickInterval = tickInterval;
        fs = new InMemoryFileSystem(fsSeed);
        wal = world.Plan.DiskFull ? TinySegments : SmallSegments;
        crashes = world.Random.Fork(Id ^ 0xC4A5_0000_0000_0000UL);
        network = new SimPeerNetwork(world.Network, WithSnapshotData);
        txnIgnoresCompare = world.Sabotage.HasFlag(Sabotage.TxnIgnoresCompare);
        var members = founding.Voters.Append(Id).Distinct().Select(id => new ClusterMember(id, $"n{id}", [$"http://n{id}:2380"], []));
        options = new NodeHostOptions
        {
            NodeId = Id,
            InitialCluster = [.. members],
            DataDir = DataDir,
            SnapshotThreshold = snapshotThreshold,
            // The plan's tail (0, or 1-60 entries in half the mixed runs), not the production default: 5,000 would keep
            // every entry of a run in the log, and no snapshot would ever be sent.
            SnapshotCatchUpEntries = (ulong)world.Plan.CompactKeep,
            Wal = wal,
            // The host's tick is the simulator's: lease deadlines (counted in ticks) then mean virtual time.
            HeartbeatInterval = TimeSpan.FromMicroseconds(nominalTick),
            ElectionTimeout = TimeSpan.FromMicroseconds(nominalTick * core.ElectionTicks),
            // No absolute silence floor: virtual time has no scheduling stalls, and 250 ms is many election timeouts here.
            GrayFailure = world.GrayFailure
                ? GrayFailureOptions.Default with { MinSilence = TimeSpan.Zero, NoProgressReports = world.NoProgressReports }
                : GrayFailureOptions.Off,
        };
        driver = new HostDriver
        {
            // The host's no-progress window (from GrayFailureOptions, 0 when gray-failure handling is off) is the host's to set.
            ConfigureCore = production => core with { MaxUncommittedBytes = production.MaxUncommittedBytes, NoProgressTicks = production.NoProgressTicks },
            Random = world.Random.Fork(Id),
            BootstrapConfig = founding,
            InlineApply = true,
            // Virtual time for the gray-failure detectors and the sync timing they learn from: a seed's run stays the same.
            Time = new VirtualClock(world.Scheduler),
            TestObserver = this,
            TestFaults = new HostTestFaults
            {
                AckBeforePersist = world.Sabotage.HasFlag(Sabotage.AckBeforePersist),
                VoteNotPersisted = world.Sabotage.HasFlag(Sabotage.VoteNotPersisted),
                ApplyWithoutPermissionCheck = world.Sabotage.HasFlag(Sabotage.ApplyWithoutPermissionCheck),
            },
        };
    }

    public ulong Id { get; }

    /// <summary>Virtual microseconds between this node's ticks (differs per node under clock skew).</summary>
    public long TickInterval { get; }

    public bool IsUp => host is not null;

    /// <summary>Removed from the cluster and stopped for good.</summary>
    public bool IsRetired { get; private set; }

    /// <summary>The index the node's store has applied up to (0 while down).</summary>
    public ulong Applied => host?.Applied ?? 0;

    /// <summary>The log as this node wrote it (synced or not), for the checkers.</summary>
    public DiskImage Log => log.Current;

    public int Restarts { get; private set; }

    /// <summary>
    /// A host-layer fault (<see cref="FaultPlan.StuckLeader"/>): acknowledgements of appends reaching this node are lost
    /// before its core sees them, while everything else (ticks, heartbeats, their answers, proposals) goes on.
    /// </summary>
    public bool AcknowledgementsWedged { get; set; }

    private long noProgressReportsBefore;
    private long noProgressCampaignsBefore;

    /// <summary>No-progress reports this node sent, over all its incarnations.</summary>
    public long NoProgressReports => noProgressReportsBefore + (host?.NoProgressReports ?? 0);

    /// <summary>Campaigns this node started on a quorum of no-progress reports, over all its incarnations.</summary>
    public long NoProgressCampaigns => noProgressCampaignsBefore + (host?.NoProgressCampaigns ?? 0);

    /// <summary>Times the host held its writes for a full disk.</summary>
    public int WriteHolds { get; private set; }

    /// <summary>Times a retry wrote what the host held (the host resumed).</summary>
    public int WriteResumes { get; private set; }

    /// <summary>Client calls refused because of the NOSPACE alarm (at the API or by the paused loop).</summary>
    public int NoSpaceRefusals { get; private set; }

    public RaftStatus? Status() => host?.CoreStatus();

    public SoftState? SoftState => host?.CoreStatus().SoftState;

    public void Start()
    {
        if (IsUp || IsRetired)
        {
            throw new SimulationException($"node {Id} cannot start: it is {(IsUp ? "already up" : "retired")}");
        }

        var storage = NodeStorage.Open(fs, DataDir, wal);
        snapshotFiles = new NodeSnapshotFiles(storage, new VirtualClock(world.Scheduler));
        var recovered = storage.BuildRaftState(founding);
        log = LogMirror.From(recovered);
        incarnation++;
        readyInFlight = false;
        diskRetryScheduled = false;
        role = Role.Follower;
        lastCommit = recovered.HardState.Commit;
        pending = new PendingRequests(1);
        host = new ReadyProcessor(options, storage, network, pending, NullLogger.Instance, driver: driver);
        world.Trace(Id, "start", (long)recovered.HardState.Term, (long)log.Current.LastIndex);
        ScheduleTick(incarnation);
        Pump();
    }

    /// <summary>Power loss: the host and every in-memory structure vanish; clients waiting here never hear back.</summary>
    public void Crash()
    {
        if (!IsUp)
        {
            return;
        }

        noProgressReportsBefore = NoProgressReports;
        noProgressCampaignsBefore = NoProgressCampaigns;
        // Not disposed: a dying process flushes nothing. The file system keeps what was synced (and, with torn
        // writes, possibly a prefix of what was not, the last record torn).
        host = null;
        pending = null;
        incarnation++;
        readyInFlight = false;
        diskRetryScheduled = false;
        writesHeld = false;
        waiting.Clear();
        // A fill ends with the process (the simulator does not model restarting on a full disk).
        fs.CapacityBytes = null;
        diskFills++;
        var mayTear = world.Plan.TornWrites;
        var mode = !mayTear ? CrashMode.LoseUnsynced
            : crashes.Next(3) switch { 0 => CrashMode.LoseUnsynced, 1 => CrashMode.TearLastUnsynced, _ => CrashMode.RandomPrefix };
        fs.Crash(mode, new Random((int)(crashes.NextULong() & int.MaxValue)));
        Restarts++;
        world.Trace(Id, "crash", 0, 0);
    }

    /// <summary>Stops the node for good (it was removed from the membership).</summary>
    public void Retire()
    {
        Crash();
        IsRetired = true;
    }

    /// <summary>True while this node's disk is full.</summary>
    public bool DiskFilled => fs.CapacityBytes is not null;

    /// <summary>Fills the disk: not one byte more fits (a write inside a preallocated WAL segment still does).</summary>
    /// <returns>This fill's number, for <see cref="FreeDisk(int)"/>.</returns>
    public int FillDisk()
    {
        fs.CapacityBytes = fs.UsedBytes;
        world.Trace(Id, "disk-full", fs.UsedBytes, 0);
        return ++diskFills;
    }

    /// <summary>Frees the disk if fill number <paramref name="fill"/> still holds it; the host finds out at its next retry.</summary>
    public void FreeDisk(int fill)
    {
        if (fill == diskFills && DiskFilled)
        {
            fs.CapacityBytes = null;
            world.Trace(Id, "disk-freed", 0, 0);
        }
    }

    /// <summary>Frees the disk and, as an operator disarming the alarm does, has the host retry at once.</summary>
    public void FreeDisk()
    {
        FreeDisk(diskFills);
        if (host is not null && host.DiskSpace.Active)
        {
            host.RetryDiskFull();
            Pump();
        }
    }

    public void Receive(Message message)
    {
        if (host is null || (AcknowledgementsWedged && message.Type == MessageType.AppendResponse))
        {
            return;
        }

        if (message.Type == MessageType.Snapshot && message.Snapshot is { Metadata.Index: > 0, Data.IsEmpty: false } carried)
        {
            // As the peer transport's receiving side does, through the same NodeSnapshotFiles: the snapshot is stored
            // (temporary file, sync, rename) before the core sees it, and the core gets it with empty data ("on disk").
            // A full disk (or its cooldown) refuses it: the message is lost, as when the transport drops the stream.
            try
            {
                using var incoming = snapshotFiles!.BeginReceiving(carried.Metadata, carried.Data.Length);
                incoming.Write(carried.Data.Span);
                if (incoming.Commit() is not { } delivered)
                {
                    return;
                }

                message = message with { Snapshot = carried with { Data = delivered } };
            }
            catch (Exception e) when (e is IOException or DiskFullException)
            {
                world.Trace(Id, "snapshot-refused", (long)carried.Metadata.Index, 0);
                return;
            }
        }

        host.Step(message);
        Pump();
    }

    /// <summary>
    /// A snapshot message from the core names a stored snapshot and carries no data: as the peer transport's sending
    /// side does, read that file (NodeSnapshotFiles) and carry its bytes to the receiver; a snapshot no longer kept
    /// is reported as a failed send, as the transport's SnapshotSendFailed event does.
    /// </summary>
    private Message? WithSnapshotData(Message message)
    {
        if (message.Type != MessageType.Snapshot || message.Snapshot is not { Metadata.Index: > 0, Data.IsEmpty: true } wanted || snapshotFiles is null)
        {
            return message;
        }

        try
        {
            using var stream = snapshotFiles.OpenForSending(wanted.Metadata);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var metadata = world.Sabotage.HasFlag(Sabotage.SnapshotCarriesFoundingMembership)
                ? wanted.Metadata with { Config = founding }
                : wanted.Metadata;
            return message with { Snapshot = wanted with { Metadata = metadata, Data = copy.ToArray() } };
        }
        catch (Exception e) when (e is IOException or StorageException)
        {
            var me = incarnation;
            world.Scheduler.After(TickInterval, () =>
            {
                if (me == incarnation && host is not null)
                {
                    host.ReportSnapshotFailure(message.To);
                    Pump();
                }
            });
            return null;
        }
    }

    public void SubmitWrite(SimCommand command, Action<ClientReply> reply)
    {
        if (host is null || pending is null)
        {
            reply(ClientReply.Unavailable);
            return;
        }

        if (host.DiskFull.RefuseNewWrite() is not null)
        {
            // As the API does under the NOSPACE alarm: refused before proposing, certainly without effect.
            NoSpaceRefusals++;
            reply(ClientReply.Refused(ProposeStatus.NoLeader));
            return;
        }

        // The host refuses a call it did not propose (no leader, a transfer, too many requests) by failing it with a
        // gRPC error before it returns; for the history any refusal means the same: the call certainly had no effect.
        ProposeAsCaller(command.RequestId, command.User, caller => SimCommandTranslation.ToRaftCommand(command, Id, txnIgnoresCompare, caller), result =>
        {
            if (result is null)
            {
                reply(ClientReply.Refused(ProposeStatus.NoLeader));
            }
            else if (result.Error is { } error && command.User is not null && SimCommandTranslation.IsAuthRefusal(error.Message))
            {
                reply(ClientReply.Denied(error.Message));
            }
            else
            {
                reply(ClientReply.Ok(SimCommandTranslation.ToOutput(command, result), result.Revision));
            }
        });
    }

    /// <summary>Commands auth refused as stale ("revision of auth store is old") and this node proposed again.</summary>
    public int StaleAuthRetries { get; private set; }

    /// <summary>
    /// Proposes a client's command as <paramref name="user"/> (null: no caller attached), as the API's ProposeAsync
    /// does: the caller is resolved against this member's auth state and carried in the command; when the command
    /// applies as stale ("revision of auth store is old": an auth change committed between the look-up and the apply),
    /// the caller is looked up again and the command proposed again, up to the API's bound. <paramref name="done"/>
    /// gets the store's answer, or null when the host refused or lost the call (certainly no effect: a stale attempt
    /// changed nothing).
    /// </summary>
    private void ProposeAsCaller(long requestId, string? user, Func<CallerAuth?, RaftCommand> build, Action<ApplyResult?> done, int attempt = 0)
    {
        var at = host!;
        var caller = at.Read(store => SimCommandTranslation.Caller(store, user));
        var call = pending!.RegisterProposal((ulong)requestId);
        waiting.Add((call, () =>
        {
            if (!call.IsCompletedSuccessfully)
            {
                done(null);
                return;
            }

            if (user is not null && call.Result.Error?.Message == AuthErrors.AuthOldRevisionMessage && attempt + 1 < MaxAuthAttempts)
            {
                StaleAuthRetries++;
                var me = incarnation;
                // After this answer's turn (not from inside the loop that answers calls).
                world.Scheduler.After(0, () =>
                {
                    if (me == incarnation && host is not null && pending is not null)
                    {
                        ProposeAsCaller(requestId, user, build, done, attempt + 1);
                    }
                    else
                    {
                        done(null);
                    }
                });
                return;
            }

            done(call.Result);
        }));
        host!.Propose((ulong)requestId, build(caller).ToByteArray());
        Pump();
    }

    /// <summary>An auth-management command (user, role, permission, the auth switch) proposed as <paramref name="user"/>;
    /// the reply carries the store's answer, or null when the call was refused or lost.</summary>
    public void SubmitAdmin(long requestId, string user, RaftCommand command, Action<ApplyResult?> reply)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (host is null || pending is null || host.DiskFull.RefuseNewWrite() is not null)
        {
            reply(null);
            return;
        }

        ProposeAsCaller(requestId, user, caller =>
        {
            command.RequestId = (ulong)requestId;
            command.Header = new CommandHeader { OriginMemberId = Id, Caller = caller };
            return command;
        }, reply);
    }

    /// <summary>Proposes a compaction of the store's history up to a revision this node has already applied (so it is
    /// never in the future); nobody waits for it, and "already compacted" is a fine outcome.</summary>
    public void SubmitCompaction(ulong requestId, string? user = null)
    {
        if (host is null)
        {
            return;
        }

        var revision = host.Read(store => store.Revision) - 1;
        if (revision < 1)
        {
            return;
        }

        var caller = host.Read(store => SimCommandTranslation.Caller(store, user));
        host.Propose(requestId, SimCommandTranslation.Compaction(requestId, Id, revision, caller).ToByteArray());
        Pump();
    }

    /// <summary>
    /// A linearizable read of <paramref name="keys"/>: one key as a range, several as a read-only Txn
    /// (<paramref name="asTxn"/>) or a prefix range over every workload key, as the API serves them.
    /// </summary>
    /// <param name="user">The user reading (auth runs): checked where the read is served, after the read point, as the API does.</param>
    public void SubmitRead(long requestId, IReadOnlyList<string> keys, bool asTxn, Action<ClientReply> reply, string? user = null)
    {
        if (host is null || pending is null)
        {
            reply(ClientReply.Unavailable);
            return;
        }

        if (host.DiskFull.RefuseNewLinearizableRead() is not null)
        {
            NoSpaceRefusals++;
            reply(ClientReply.Refused(ProposeStatus.NoLeader));
            return;
        }

        if (world.Sabotage.HasFlag(Sabotage.ReadWithoutReadIndex))
        {
            reply(ReadNow(host, keys, asTxn, user));
            return;
        }

        // As the API serves a linearizable range: wait for the read point to be confirmed and applied, then read.
        var readId = (ulong)requestId;
        var call = pending.RegisterRead(readId);
        var at = host;
        waiting.Add((call, () => reply(call.IsCompletedSuccessfully
            ? ReadNow(at, keys, asTxn, user)
            : ClientReply.Refused(ProposeStatus.NoLeader))));
        host.ReadIndex(readId);
        Pump();
    }

    private static ClientReply ReadNow(ReadyProcessor at, IReadOnlyList<string> keys, bool asTxn, string? user)
    {
        try
        {
            if (keys.Count == 1 && !asTxn)
            {
                var (output, revision) = at.Read(store => SimCommandTranslation.Read(store, keys[0], user));
                return ClientReply.Ok(output, revision);
            }

            var (outputs, atRevision) = at.Read(store => SimCommandTranslation.ReadMany(store, keys, asTxn, user));
            return ClientReply.OkMany(outputs, atRevision);
        }
        catch (KvException e) when (user is not null && SimCommandTranslation.IsAuthRefusal(e.Message))
        {
            return ClientReply.Denied(e.Message);
        }
    }

    /// <summary>
    /// A lease command (grant, revoke, or a put with a lease) proposed as the Lease and KV APIs propose it; a grant
    /// applied here starts its clock at once when this node leads (as the API does). The reply carries the store's
    /// answer (an error such as "requested lease not found" included), or null when the call was refused or lost.
    /// </summary>
    public void SubmitLeaseWrite(long requestId, RaftCommand command, Action<ApplyResult?> reply)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (host is null || pending is null || host.DiskFull.RefuseNewWrite() is not null)
        {
            reply(null);
            return;
        }

        command.RequestId = (ulong)requestId;
        command.Header = new CommandHeader { OriginMemberId = Id };
        var call = pending.RegisterProposal((ulong)requestId);
        var at = host;
        waiting.Add((call, () =>
        {
            if (!call.IsCompletedSuccessfully)
            {
                reply(null);
                return;
            }

            if (command.LeaseGrant is { } grant && call.Result.Succeeded)
            {
                at.Leases.Renew(grant.ID, grant.TTL);
            }

            reply(call.Result);
        }));
        host.Propose((ulong)requestId, command.ToByteArray());
        Pump();
    }

    /// <summary>
    /// A keep-alive as the Lease API answers it on the leader: leadership confirmed first (a ReadIndex round, unless
    /// one asked for within half an election timeout confirmed it), then the lease renewed. Replies the TTL promised (0: the lease is gone), or null when this node does not lead or
    /// the confirmation failed (the API would forward or fail the call; the client learns nothing).
    /// </summary>
    public void SubmitKeepAlive(long requestId, long leaseId, Action<long?> reply)
    {
        if (host is null || pending is null || !host.Leases.IsLeading || host.DiskFull.RefuseNewLinearizableRead() is not null)
        {
            reply(null);
            return;
        }

        var at = host;
        if (world.Sabotage.HasFlag(Sabotage.KeepAliveWithoutReadIndex))
        {
            reply(Renew(at, leaseId));
            return;
        }

        if (at.Leases.RecentlyConfirmed)
        {
            reply(Renew(at, leaseId));
            return;
        }

        var ticket = at.Leases.BeginConfirmation();
        var call = pending.RegisterRead((ulong)requestId);
        waiting.Add((call, () =>
        {
            if (!call.IsCompletedSuccessfully)
            {
                reply(null);
                return;
            }

            at.Leases.Confirmed(ticket);
            reply(Renew(at, leaseId));
        }));
        host.ReadIndex((ulong)requestId);
        Pump();
    }

    private long? Renew(ReadyProcessor at, long leaseId)
    {
        var ttl = at.Leases.KeepAlive(leaseId, () => at.Read(store => store.TryGetLease(leaseId, out var lease) ? lease!.GrantedTtl : (long?)null));
        world.Trace(Id, "lease-renew", leaseId, ttl ?? -1);
        return ttl;
    }

    /// <summary>A linearizable read of one key: whether it exists and the revision the answer reflects (null: refused or lost).</summary>
    public void SubmitKeyRead(long requestId, string key, Action<(bool Present, long Revision)?> reply)
    {
        SubmitRead(requestId, [key], asTxn: false, answer => reply(answer.Kind == ClientReplyKind.Ok
            ? (answer.Output!.Value is not null, answer.Revision)
            : null));
    }

    /// <summary>The leases this node's store holds (empty while down).</summary>
    public IReadOnlyList<long> LeaseIds() => host?.Read(store => store.LeaseIds()) ?? [];

    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        var result = host?.ProposeConfigChange(change) ?? new ProposeResult(ProposeStatus.NoLeader);
        Pump();
        return result;
    }

    public void TransferLeadership(ulong target)
    {
        host?.TransferLeadership(target);
        Pump();
    }

    /// <summary>The transport wrote the whole snapshot to <paramref name="to"/>.</summary>
    public void ReportSnapshotSent(ulong to)
    {
        if (host is null)
        {
            return;
        }

        host.ReportSnapshotSent(to);
        Pump();
    }

    /// <summary>The transport could not reach <paramref name="message"/>'s target (link cut or node down).</summary>
    public void ReportUndeliverable(Message message)
    {
        if (host is null)
        {
            return;
        }

        if (message.Type == MessageType.Snapshot)
        {
            host.ReportSnapshotFailure(message.To);
        }
        else
        {
            host.ReportUnreachable(message.To);
        }

        Pump();
    }

    /// <summary>The transport saw the connection to or from <paramref name="peer"/> close (or was told so falsely).</summary>
    public void ReportConnectionLost(ulong peer)
    {
        if (host is null)
        {
            return;
        }

        world.Trace(Id, "connection-lost", (long)peer, 0);
        host.ReportConnectionLost(peer);
        Pump();
    }

    /// <summary>Whether this node's store reflects the write with this request id (applied here or in a snapshot).</summary>
    public bool HasApplied(long requestId) => world.AppliedAt(requestId) is { } index && Applied >= index;

    /// <summary>
    /// A hash of the replicated auth state read through the store's own API: the switch, the auth revision, every user
    /// with its password hash and roles, every role with its permissions (the whole-store <see cref="Fingerprint"/>
    /// covers it too; this one says which part differs).
    /// </summary>
    public ulong AuthFingerprint()
    {
        var up = host ?? throw new SimulationException($"node {Id} is down: it has no auth state to compare");
        return up.Read(store =>
        {
            var auth = store.Auth;
            var text = new System.Text.StringBuilder().Append(auth.Enabled).Append('/').Append(auth.Revision);
            foreach (var user in auth.UserList().Users)
            {
                text.Append("|u:").Append(user).Append(':').Append(auth.PasswordHashOf(user)).Append(':').AppendJoin(',', auth.UserGet(user).Roles);
            }

            foreach (var role in auth.RoleList().Roles)
            {
                text.Append("|r:").Append(role);
                foreach (var perm in auth.RoleGet(role).Perm)
                {
                    text.Append(':').Append(perm.PermType).Append(' ').Append(perm.Key.ToBase64()).Append(' ').Append(perm.RangeEnd.ToBase64());
                }
            }

            return TraceHash.Of(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        });
    }

    /// <summary>Whether the auth switch is on in this node's store.</summary>
    public bool AuthEnabled => host?.Read(store => store.Auth.Enabled) ?? false;

    /// <summary>The keys under <paramref name="prefix"/> this node's store holds (read directly, no auth).</summary>
    public IReadOnlyList<string> KeysUnder(string prefix)
    {
        var up = host ?? throw new SimulationException($"node {Id} is down: it has no keys to list");
        return up.Read(store => store.Range(new Bulwark.Api.Etcdserverpb.RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = ByteString.CopyFromUtf8(SimCommandTranslation.PrefixEnd(prefix)),
        }).Kvs.Select(kv => kv.Key.ToStringUtf8()).ToList());
    }

    /// <summary>A hash of the whole key-value store (the shipped store's own snapshot), to compare replicas.</summary>
    public ulong Fingerprint()
    {
        var up = host ?? throw new SimulationException($"node {Id} is down: it has no state to compare");
        return up.Read(store =>
        {
            using var stream = new MemoryStream();
            store.WriteSnapshot(stream);
            return TraceHash.Of(stream.ToArray());
        });
    }

    void IHostTestObserver.Written(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            log.InstallSnapshot(snapshot.Metadata);
        }

        if (!ready.Entries.IsEmpty)
        {
            log.Append(ready.Entries);
            world.Monitor.OnAppend(Id, ready.Entries);
            foreach (var entry in ready.Entries)
            {
                world.Membership.OnWritten(Id, entry);
            }
        }

        // Judge the commit rule only for a node that was already leader of this term before this Ready: a commit
        // index learned as a follower may point at an older entry and arrive in the Ready that announces leadership.
        var wasLeader = role == Role.Leader && ready.SoftState is null;
        if (ready.SoftState is { } softState)
        {
            role = softState.Role;
        }

        if (ready.HardState is { } hardState)
        {
            if (wasLeader && hardState.Commit > lastCommit && log.TermAt(hardState.Commit) is var commitTerm && commitTerm != hardState.Term)
            {
                world.Monitor.OnLeaderCommittedOldTerm(Id, hardState.Term, hardState.Commit, commitTerm);
            }

            lastCommit = hardState.Commit;
            world.Membership.OnCommit(hardState.Commit);
            log.WriteHardState(hardState);
            world.Monitor.OnHardState(Id, hardState, log.TermAt(hardState.Commit));
        }

        if (ready.SoftState is { } soft)
        {
            world.Trace(Id, "role", (long)soft.Role, (long)soft.Term);
            if (soft.Role == Role.Leader)
            {
                world.Monitor.OnLeader(Id, soft.Term, log.Current);
            }
        }
    }

    void IHostTestObserver.Applied(Entry entry, ClusterConfig config, MvccStore store)
    {
        world.Monitor.OnApply(Id, entry);
        world.Monitor.OnAppliedState(Id, entry.Index, store.Revision, store.ContentHash());
        world.Membership.OnApplied(Id, entry, config);
        if (world.Plan.MembershipChanges && host?.CoreStatus() is { } core && core.LastIndex == entry.Index)
        {
            // Nothing in the core's log beyond this entry: its membership must be the one as of it (after a snapshot
            // install, the snapshot's membership combined with the entries since).
            world.Membership.OnCoreConfig(Id, entry.Index, core.Config);
        }

        if (entry.Type == EntryType.ConfigChange)
        {
            world.OnConfigApplied(Id, entry.Index, config);
        }
        else if (!entry.Data.IsEmpty && !MemberAttributes.IsAttributesEntry(entry.Data.Span))
        {
            var command = RaftCommand.Parser.ParseFrom(entry.Data.Span);
            world.RecordApplied((long)command.RequestId, entry.Index);
            if (command.LeaseRevoke is { } revoke)
            {
                world.Trace(Id, command.RequestId == 0 ? "lease-expired" : "lease-revoked", revoke.ID, (long)entry.Term);
                world.Leases.OnRevokeApplied(Id, revoke.ID, store, expiry: command.RequestId == 0);
            }
        }
    }

    void IHostTestObserver.Installed(SnapshotMetadata metadata)
    {
        world.Membership.OnInstalled(Id, metadata, joinedLater: !founding.Voters.Contains(Id));
        world.OnConfigApplied(Id, metadata.Index, metadata.Config);
        world.Trace(Id, "install-snapshot", (long)metadata.Index, (long)metadata.Term);
    }

    private void ScheduleTick(int forIncarnation)
    {
        world.Scheduler.After(TickInterval, () =>
        {
            if (forIncarnation != incarnation || host is null)
            {
                return;
            }

            host.Tick();
            Pump();
            ScheduleTick(forIncarnation);
        });
    }

    /// <summary>
    /// Runs the host's Readies one at a time: phase 1 (send, write) now, phase 2 (sync, after-persist messages, apply,
    /// Advance) after the simulated sync latency when the Ready must sync, at once when not. A crash in between loses
    /// the unsynced writes. Then answers the client calls the host completed.
    /// </summary>
    private void Pump()
    {
        while (host is not null && !readyInFlight && host.BeginReady() is { } ready)
        {
            if (ready.MustSync)
            {
                readyInFlight = true;
                var me = incarnation;
                world.Scheduler.After(world.Random.Between(0, world.Plan.SyncLatencyMax), () =>
                {
                    if (me == incarnation)
                    {
                        readyInFlight = false;
                        host!.CompleteReady();
                        Pump();
                    }
                });
                break;
            }

            host.CompleteReady();
        }

        NoteWriteHolds();
        ScheduleDiskFullRetry();
        AnswerCompletedCalls();
    }

    private void NoteWriteHolds()
    {
        if (host is null || host.WritesBlocked == writesHeld)
        {
            return;
        }

        writesHeld = host.WritesBlocked;
        if (writesHeld)
        {
            WriteHolds++;
        }
        else
        {
            WriteResumes++;
        }

        world.Trace(Id, writesHeld ? "writes-held" : "writes-resumed", 0, 0);
    }

    /// <summary>
    /// While the host's NOSPACE alarm is raised, one retry at a time after the host's backoff, on virtual time (as
    /// NodeHost's timer does on real time).
    /// </summary>
    private void ScheduleDiskFullRetry()
    {
        if (host is null || diskRetryScheduled || host.DiskFull.NextRetryDelay() is not { } delay)
        {
            return;
        }

        diskRetryScheduled = true;
        var me = incarnation;
        world.Scheduler.After((long)delay.TotalMicroseconds, () =>
        {
            if (me != incarnation || host is null)
            {
                return;
            }

            diskRetryScheduled = false;
            world.Trace(Id, "disk-retry", host.DiskFull.WritesBlocked ? 1 : 0, 0);
            host.RetryDiskFull();
            Pump();
        });
    }

    /// <summary>Answers, in the order they were made, the calls the host completed (no continuation runs on a thread).</summary>
    private void AnswerCompletedCalls()
    {
        for (var i = 0; i < waiting.Count; i++)
        {
            if (waiting[i].Call.IsCompleted)
            {
                var done = waiting[i].OnDone;
                waiting.RemoveAt(i--);
                done();
            }
        }
    }

    /// <summary>The host's view of the peers: every message goes into the simulated network; peer URLs mean nothing here.</summary>
    private sealed class SimPeerNetwork(SimNetwork network, Func<Message, Message?> prepare) : IPeerNetwork
    {
        public void Send(Message message)
        {
            if (prepare(message) is { } ready)
            {
                network.Send(ready);
            }
        }

        public void AddPeer(ulong id, string peerUrl)
        {
        }

        public void RemovePeer(ulong id)
        {
        }
    }
}
