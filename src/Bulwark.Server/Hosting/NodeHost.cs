using System.Net;
using System.Threading.Channels;
using Bulwark.Api.RaftCmd;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Kv.Validation;
using Bulwark.Server.Observability;
using Bulwark.Server.Transport;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// One running node: a single loop that owns the <see cref="ReadyProcessor"/> (and so the RaftNode), fed through two
/// channels, one with ticks (a timer on <see cref="TimeProvider"/>), transport feedback and wake-ups from the apply
/// worker, one with client requests (proposals, linearizable reads), and reading the peer transport's bounded incoming
/// queue itself (a received message wakes the loop directly: no pump task in between). The request channel is bounded
/// (<see cref="NodeHostOptions.MaxQueuedRequests"/>): while the loop is held up, requests beyond it are refused at once
/// with "too many requests", and a request whose caller gave up before the loop took it is dropped, not proposed.
/// Every input that arrived since the last Ready rides in the next one, so one fdatasync covers them all (group commit).
/// Applying to the key-value store runs on the processor's apply worker, off this loop.
/// A broken safety invariant or a failed fsync stops the node (fail-stop): <see cref="Completion"/> faults.
/// A full disk does not: the processor holds the Ready it could not persist and raises the NOSPACE alarm, and while it
/// is held the core is paused (what is dropped and what fails at once is <see cref="DiskFullPolicy"/>'s); the loop
/// retries with the policy's backoff on a <see cref="TimeProvider"/> timer until the write goes through. A paused
/// leader stops heartbeating, so the others elect a leader that can write.
/// </summary>
public sealed partial class NodeHost : IAsyncDisposable
{
    private readonly NodeHostOptions options;
    private readonly NodeStorage storage;
    private readonly TcpPeerTransport transport;
    private readonly ReadyProcessor processor;
    private readonly PendingRequests pending;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    // Ticks and wake-ups are coalesced and feedback comes one per event, so this stays small; it must never drop one.
    private readonly Channel<HostInput> inputs = Channel.CreateUnbounded<HostInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<HostInput> requests;
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? timer;
    private ITimer? noSpaceRetryTimer;
    // Set by Post after every input (cheap when nobody waits); the loop thread sleeps on it. Never disposed: Post may
    // still be called (and set it) by a late request or timer after the host stopped.
    private readonly ManualResetEventSlim inputSignal = new(false, spinCount: 0);
    private readonly TaskCompletionSource loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task loop = Task.CompletedTask;
    private int tickQueued;
    private int peerWakeQueued;
    private int disposed;
    private volatile bool closed;
    private string? removedByPeer;

    private NodeHost(NodeHostOptions options, NodeStorage storage, TcpPeerTransport transport, TimeProvider time, ILoggerFactory loggers)
    {
        this.options = options;
        this.storage = storage;
        this.transport = transport;
        this.time = time;
        logger = loggers.CreateLogger<NodeHost>();
        requests = Channel.CreateBounded<HostInput>(new BoundedChannelOptions(options.MaxQueuedRequests)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite refuses when full: the caller is answered at once
        });
        pending = new PendingRequests((ulong)time.GetUtcNow().ToUnixTimeMilliseconds() << 20);
        var network = LossyPeerNetwork.Wrap(new TcpPeerNetwork(transport), options.DropPeerMessage);
        processor = new ReadyProcessor(options, storage, Observability.ObservedPeerNetwork.Wrap(network, options.Observer), pending, logger,
            () => Post(HostInput.Wake.Instance));
    }

    public ulong MemberId => options.NodeId;

    public ulong ClusterId => options.EffectiveClusterId;

    public string Name => options.Self.Name;

    public NodeHostOptions Options => options;

    public NodeStatus Status => processor.Status;

    /// <summary>True while this member's NOSPACE alarm is raised: client writes are refused (etcd's "database space exceeded").</summary>
    public bool NoSpaceAlarm => processor.DiskFull.Alarm.Active;

    /// <summary>The replicated alarms (CORRUPT) this member applied, about any member; the same on every member.</summary>
    public IReadOnlyList<ReplicatedAlarm> ReplicatedAlarms => processor.ReplicatedAlarms;

    /// <summary>Every alarm this member reports: its own NOSPACE, then the replicated ones (etcd's alarm list).</summary>
    public IReadOnlyList<ReplicatedAlarm> Alarms =>
        NoSpaceAlarm ? [new(MemberId, Bulwark.Api.Etcdserverpb.AlarmType.Nospace), .. ReplicatedAlarms] : ReplicatedAlarms;

    public IReadOnlyList<ClusterMember> Members => processor.Members.All;

    /// <summary>True for the id of a member removed from the cluster (never given to a new member).</summary>
    public bool IsRemovedMember(ulong id) => processor.Members.IsRemoved(id);

    /// <summary>Messages the peer transport dropped so far (queue full, peer unreachable); tests wait on it.</summary>
    internal long PeerMessagesDropped => transport.MessagesDropped;

    /// <summary>The outbound side of each peer connection (messages, bytes, snapshots sent and failed) for metrics.</summary>
    public IReadOnlyList<PeerStats> PeerTransportStats() => transport.GetPeerStats();

    /// <summary>The address the peer transport listens on.</summary>
    public IPEndPoint PeerEndpoint => transport.ListenEndpoint;

    /// <summary>Completes when the node stops; faults with the cause when it stopped on its own (fail-stop).</summary>
    public Task Completion => completion.Task;

    /// <summary>
    /// Opens storage under the data dir (recovering the newest snapshot and the log, or bootstrapping a new node),
    /// starts the peer transport, the loop and the tick timer.
    /// </summary>
    /// <exception cref="Bulwark.Storage.StorageCorruptionException">Stored data is damaged; the node must not serve.</exception>
    public static NodeHost Start(NodeHostOptions options, ILoggerFactory loggers, TimeProvider? time = null, IFileSystem? fileSystem = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        options.Validate();
        time ??= TimeProvider.System;
        var storage = NodeStorage.Open(fileSystem ?? RealFileSystem.Instance, options.DataDir, options.Wal);
        Backup.StoreBackup.DeleteLeftovers(options.DataDir);
        if (storage.Recovery.TornTail is { } torn)
        {
            HostLog.TornTail(loggers.CreateLogger<NodeHost>(), torn.FilePath, torn.Offset, torn.Reason);
        }

        TcpPeerTransport? transport = null;
        NodeHost? created = null; // the transport's callbacks read the host once it exists (the transport starts after)
        try
        {
            transport = new TcpPeerTransport(
                new PeerTransportOptions
                {
                    ClusterId = options.EffectiveClusterId,
                    LocalId = options.NodeId,
                    ListenEndpoint = ListenEndpointOf(options.ListenPeerUrl ?? options.Self.PeerUrls[0]),
                    Peers = options.InitialCluster.Where(m => m.Id != options.NodeId).ToDictionary(m => m.Id, m => m.PeerUrls[0]),
                    JitterSeed = (int)options.NodeId,
                    SnapshotChunkBytes = options.SnapshotChunkBytes,
                    AnswerMemberQuery = () => created?.AnswerMemberQuery(),
                    IsRemovedMember = id => created?.processor.Members.IsRemoved(id) == true,
                    Tls = options.PeerTls,
                },
                time,
                loggers.CreateLogger<TcpPeerTransport>(),
                new NodeSnapshotFiles(storage));
            var host = new NodeHost(options, storage, transport, time, loggers);
            created = host;
            host.Run();
            return host;
        }
        catch
        {
            if (transport is not null)
            {
                transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            storage.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Proposes a key-value command and waits until this node applied it. Checks the request against the limits first
    /// (a refused request changes nothing). The result carries the store's answer or its <see cref="Kv.Errors.KvException"/>.
    /// </summary>
    public async Task<ApplyResult> ProposeAsync(RaftCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequestValidator.ValidateProposal(command, options.Limits);
        ThrowIfStopped();
        if (KvStateMachine.IsRefusedWhileCorrupt(command) && Status.CorruptAlarm)
        {
            // Refused before proposing, as etcd does: the apply would refuse it anyway (every member, from the same
            // replicated alarm), so it need not take a place in the log.
            throw Bulwark.Kv.Errors.KvErrors.Corrupt();
        }

        if (processor.DiskFull.RefuseNewWrite() is { } noSpace)
        {
            // Refused before proposing, as etcd does under its NOSPACE alarm: nothing of it enters the log.
            throw noSpace.AsNeverProposed();
        }

        if (Status.Leader == 0)
        {
            throw ServerErrors.NoLeader().AsNeverProposed();
        }

        var id = pending.NextId();
        command.RequestId = id;
        command.Header = new CommandHeader { OriginMemberId = options.NodeId, Caller = command.Header?.Caller };
        var wait = pending.RegisterProposal(id);
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.Posting(id);
        }

        return await PostAndWaitAsync(id, wait, new HostInput.Propose(id, command.ToByteArray()), () => options.Observer?.ProposalFailed(),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until a read on this node is linearizable: leadership confirmed (ReadIndex) and applied up to it.</summary>
    public async Task LinearizableBarrierAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        if (processor.DiskFull.RefuseNewLinearizableRead() is { } blocked)
        {
            throw blocked;
        }

        if (Status.Leader == 0)
        {
            throw ServerErrors.NoLeader();
        }

        var id = pending.NextId();
        var wait = pending.RegisterRead(id);
        await PostAndWaitAsync(id, wait, new HostInput.ReadIndex(id), onTimeout: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Hands the loop a request whose caller waits in <see cref="pending"/> under <paramref name="id"/>, and waits for
    /// its answer up to the request timeout. A caller that times out or is cancelled is forgotten, so the loop drops the
    /// request if it has not taken it yet, and a late answer goes nowhere.
    /// </summary>
    private async Task<T> PostAndWaitAsync<T>(ulong id, Task<T> wait, HostInput input, Action? onTimeout, CancellationToken cancellationToken)
    {
        Post(input);
        try
        {
            return await wait.WaitAsync(options.RequestTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            onTimeout?.Invoke();
            pending.Forget(id);
            if (PutStageTrace.Enabled)
            {
                PutStageTrace.Forget(id);
            }

            throw ServerErrors.Timeout();
        }
        catch (OperationCanceledException)
        {
            pending.Forget(id);
            if (PutStageTrace.Enabled)
            {
                PutStageTrace.Forget(id);
            }

            throw;
        }
    }

    /// <summary>
    /// The key-value store's estimated data size: bytes of the keys and current values of the live keys
    /// (<see cref="MvccStore.LiveDataBytes"/>). Reported as etcd's db size in use.
    /// </summary>
    public long KvDataBytes => processor.Read(s => s.LiveDataBytes);

    /// <summary>
    /// Bytes this member holds on disk for its state: its snapshot and WAL files, preallocated space included
    /// (<see cref="NodeStorage.DiskBytes"/>). Reported as etcd's db size; Defragment brings it down.
    /// </summary>
    public long DiskBytes => storage.DiskBytes;

    /// <summary>
    /// Writes this member's store, as applied now, to a temporary file in the data directory (an online backup; see
    /// <see cref="Backup.StoreBackup"/>). The apply path waits while the store is serialized under its lock.
    /// </summary>
    public Backup.StoreBackup WriteBackup()
    {
        ThrowIfStopped();
        return Backup.StoreBackup.Write(options.DataDir, read => processor.Read(read));
    }

    /// <summary>Reads the local key-value store (serializable: may be behind the leader).</summary>
    public T Read<T>(Func<MvccStore, T> read) => processor.Read(read);

    /// <summary>Lease deadlines, kept while this member leads.</summary>
    public LeaseKeeper Leases => processor.Leases;

    /// <summary>The watchers of this member's applied state (etcd serves watches from any member).</summary>
    public Bulwark.Kv.Watch.WatchHub Watches => processor.Watches;

    /// <summary>Leases granted and revoked as this member applied them.</summary>
    public (long Granted, long Revoked) LeaseChanges => processor.LeaseChanges;

    /// <summary>Starts an election on this node now (tests and operators).</summary>
    public void Campaign() => Post(new HostInput.Campaign());

    /// <summary>
    /// Asks this member, if it leads, to hand leadership to <paramref name="target"/> (a voting member), and waits until
    /// this member sees <paramref name="target"/> as leader. Returns false when that did not happen within the request
    /// timeout (the transfer is abandoned after an election timeout: the target lagged or was unreachable).
    /// </summary>
    public async Task<bool> TransferLeadershipAsync(ulong target, CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        Post(new HostInput.TransferLeadership(target));
        var deadline = time.GetTimestamp() + (long)(options.RequestTimeout.TotalSeconds * time.TimestampFrequency);
        while (Status.Leader != target)
        {
            if (time.GetTimestamp() >= deadline)
            {
                return false;
            }

            // Polled once a heartbeat, as etcd polls once a tick: the status is republished after every Ready.
            await Task.Delay(options.HeartbeatInterval, time, cancellationToken).ConfigureAwait(false);
            ThrowIfStopped();
        }

        return true;
    }

    /// <summary>
    /// A membership change (etcd's Cluster API) on the leader: checked and proposed by the loop, and answered once this
    /// member applied it. While an earlier change is still on its way the request is tried again, up to the request
    /// timeout. Throws <see cref="MembershipException"/> when the change is refused (nothing changed), or a
    /// <see cref="NodeException"/> (not the leader any more, no leader, timeout).
    /// </summary>
    public async Task ChangeMembershipAsync(MembershipRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deadline = time.GetTimestamp() + (long)(options.RequestTimeout.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            ThrowIfStopped();
            if (Status.Leader == 0)
            {
                throw ServerErrors.NoLeader();
            }

            var id = pending.NextId();
            var wait = pending.RegisterChange(id);
            try
            {
                await PostAndWaitAsync(id, wait, new HostInput.ChangeMembership(id, request, ConnectedPeers), onTimeout: null, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ReconfigurationBusyException)
            {
                if (time.GetTimestamp() >= deadline)
                {
                    throw ServerErrors.Timeout();
                }
            }

            // The earlier change commits and applies within a few heartbeats; polled as TransferLeadershipAsync polls.
            await Task.Delay(options.HeartbeatInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Before this leader is removed (etcd hands leadership over first, so clients see one quick failover instead of an
    /// election timeout): moves leadership to the connected voter furthest along and waits until this member sees it
    /// lead. Returns the new leader, or 0 when this member does not lead, no voter could take over, or it did not
    /// happen within the request timeout.
    /// </summary>
    public async Task<ulong> HandOverLeadershipAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        var chosen = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new HostInput.HandOverLeadership(chosen, ConnectedPeers));
        ulong target;
        try
        {
            target = await chosen.Task.WaitAsync(options.RequestTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return 0; // the loop did not take it (stopping)
        }

        if (target == 0)
        {
            return 0;
        }

        var deadline = time.GetTimestamp() + (long)(options.RequestTimeout.TotalSeconds * time.TimestampFrequency);
        while (Status.Leader != target)
        {
            if (time.GetTimestamp() >= deadline)
            {
                return 0;
            }

            await Task.Delay(options.HeartbeatInterval, time, cancellationToken).ConfigureAwait(false);
            ThrowIfStopped();
        }

        return target;
    }

    /// <summary>
    /// What a joining member asks over the peer port (<see cref="ClusterJoin"/>): the cluster id, the membership this
    /// member bootstrapped from and the member table. Null while this member has no leader (it may be the one that was
    /// cut off; the joiner asks another).
    /// </summary>
    internal Transport.MemberQueryReplyFrame? AnswerMemberQuery()
    {
        if (Status.Leader == 0 || completion.Task.IsCompleted)
        {
            return null;
        }

        var members = processor.Members.All
            .Select(m => new Transport.MemberInfo(m.Id, m.Name, m.IsLearner, m.PeerUrls, m.ClientUrls))
            .ToList();
        return new Transport.MemberQueryReplyFrame(ClusterId, [.. processor.BootstrapConfig.Voters], members);
    }

    /// <summary>Peers this member's transport holds a live outbound connection to (etcd's "active" peers).</summary>
    private IReadOnlySet<ulong> ConnectedPeers() => transport.GetPeerStats().Where(p => p.Connected).Select(p => p.PeerId).ToHashSet();

    /// <summary>The membership this member bootstrapped from (told to a member that joins).</summary>
    public Bulwark.Consensus.ClusterConfig BootstrapConfig => processor.BootstrapConfig;

    /// <summary>Retries the writes a full disk holds back now rather than at the next backoff (an operator disarming the alarm).</summary>
    public void RetryNoSpaceNow() => Post(HostInput.RetryWrites.Instance);

    private static IPEndPoint ListenEndpointOf(string peerUrl)
    {
        var address = PeerAddress.Parse(peerUrl);
        return EndpointSyntax.ListenEndpoint(address.Host, address.Port);
    }

    private void Run()
    {
        // Members a stored snapshot knows of that the initial cluster does not name (added since, or a joined member's
        // peers): the transport must reach them too.
        foreach (var member in processor.Members.All)
        {
            if (member.Id != options.NodeId && member.PeerUrls.Count > 0 && !transport.Options.Peers.ContainsKey(member.Id))
            {
                _ = transport.AddOrUpdatePeerAsync(member.Id, member.PeerUrls[0]);
            }
        }

        transport.PeerUnreachable += id => Post(new HostInput.PeerUnreachable(id));
        transport.SnapshotSendFailed += id => Post(new HostInput.SnapshotFailed(id));
        transport.SnapshotSent += id => Post(new HostInput.SnapshotSent(id));
        transport.MessageQueued += OnPeerMessageQueued;
        transport.PeerConnectionLost += id => Post(new HostInput.PeerConnectionLost(id));
        transport.RequestUndelivered += message => Post(new HostInput.RequestUndelivered(message));
        transport.InboundRefused += (remote, reason) => options.Observer?.PeerConnectionRefused(remote, reason);
        transport.HandshakeRejected += (peer, reason) =>
        {
            if (reason == MemberRemovedException.PeerRefusal)
            {
                Volatile.Write(ref removedByPeer, peer.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
                Post(HostInput.Wake.Instance);
            }
        };
        transport.Start();
        // A thread of its own rather than a pool thread: the loop blocks in fdatasync, which would take one of the pool's
        // few workers (two on a 2-core machine) from Kestrel and the apply worker; and a wake-up goes straight to it
        // (measured faster and cheaper in CPU per put, docs/benchmarks.md).
        new Thread(RunLoop) { IsBackground = true, Name = $"bulwark-loop-{options.NodeId:x}" }.Start();
        loop = loopDone.Task;
        timer = time.CreateTimer(_ => OnTick(), null, options.HeartbeatInterval, options.HeartbeatInterval);
    }

    private void OnTick()
    {
        if (Interlocked.Exchange(ref tickQueued, 1) == 0)
        {
            Post(HostInput.Tick.Instance);
        }
    }

    /// <summary>
    /// A peer message was queued on the transport's incoming queue (called on the receiving connection's thread): tell
    /// observability at once (a message proves the peer alive, even while the loop is busy syncing), and wake the loop
    /// unless a wake-up is already on its way. The loop clears the flag before it drains the queue, so a message queued
    /// after the drain posts a new one.
    /// </summary>
    private void OnPeerMessageQueued(Message message)
    {
        options.Observer?.MessageReceived(message);
        if (Interlocked.Exchange(ref peerWakeQueued, 1) == 0)
        {
            Post(HostInput.Wake.Instance);
        }
    }

    private void Post(HostInput input)
    {
        var isRequest = input is HostInput.Propose or HostInput.ReadIndex or HostInput.ChangeMembership;
        if ((isRequest ? requests : inputs).Writer.TryWrite(input))
        {
            inputSignal.Set();
            return;
        }

        // Refused: the node stopped, or (requests only) the loop is that far behind.
        var error = closed ? StoppedError() : ServerErrors.TooManyRequests();
        if (input is HostInput.Propose propose)
        {
            pending.FailProposal(propose.RequestId, error.AsNeverProposed());
        }
        else if (input is HostInput.ReadIndex read)
        {
            pending.FailRead(read.ReadId, error);
        }
        else if (input is HostInput.ChangeMembership change)
        {
            pending.FailChange(change.ChangeId, error);
        }
    }

    private bool HasInput => inputs.Reader.TryPeek(out _) || requests.Reader.TryPeek(out _) || transport.Incoming.TryPeek(out _);

    /// <summary>
    /// The loop, on its own thread: sleeps on <see cref="inputSignal"/> (no spinning) until <see cref="Post"/> or a peer
    /// message wakes it, then runs turns while anything is queued. Ends when stopped or when the inputs are completed.
    /// </summary>
    private void RunLoop()
    {
        try
        {
            while (true)
            {
                // Reset before looking: an input posted after the look sets the signal again, so the wait returns.
                inputSignal.Reset();
                if (!HasInput)
                {
                    if (inputs.Reader.Completion.IsCompleted)
                    {
                        break;
                    }

                    inputSignal.Wait(stop.Token);
                    continue;
                }

                stop.Token.ThrowIfCancellationRequested();
                RunOnce();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            FailStop(e);
            loopDone.TrySetResult();
            return;
        }

        pending.FailAll(StoppedError());
        completion.TrySetResult();
        loopDone.TrySetResult();
    }

    /// <summary>One turn of the loop: what is queued (up to a bound, so a flood cannot starve the Ready), then the Ready.</summary>
    private void RunOnce()
    {
        TakeInputs(inputs.Reader);
        TakeInputs(requests.Reader);

        // Cleared before draining: a message queued from here on posts a new wake-up (see OnPeerMessageQueued).
        Interlocked.Exchange(ref peerWakeQueued, 0);
        var received = 0;
        while (received < 4096 && transport.Incoming.TryRead(out var message))
        {
            // While a held Ready waits for disk space the processor drops peer messages (DiskFullPolicy): they are still
            // drained, so the transport's queue does not fill and stall the connection.
            processor.Step(message);
            received++;
        }

        processor.ProcessReadies();
        ScheduleNoSpaceRetry();
        if (processor.RemovedFromCluster)
        {
            throw new MemberRemovedException(options.NodeId, "it applied its own removal");
        }

        if (Volatile.Read(ref removedByPeer) is { } peer)
        {
            throw new MemberRemovedException(options.NodeId, $"peer {peer:x} refused it: {MemberRemovedException.PeerRefusal}");
        }
    }

    private void TakeInputs(ChannelReader<HostInput> reader)
    {
        var handled = 0;
        while (handled < 4096 && reader.TryRead(out var input))
        {
            if (IsAbandoned(input))
            {
                // Its caller timed out or cancelled while it queued: proposing it now would write what nobody waits for.
            }
            else
            {
                Handle(input);
            }

            handled++;
        }
    }

    private bool IsAbandoned(HostInput input) => input switch
    {
        HostInput.Propose propose => !pending.IsWaiting(propose.RequestId),
        HostInput.ReadIndex read => !pending.IsWaiting(read.ReadId),
        HostInput.ChangeMembership change => !pending.IsWaiting(change.ChangeId),
        _ => false,
    };

    private void Handle(HostInput input)
    {
        switch (input)
        {
            case HostInput.Tick:
                Volatile.Write(ref tickQueued, 0);
                processor.Tick();
                break;
            case HostInput.Propose propose:
                if (PutStageTrace.Enabled)
                {
                    PutStageTrace.StampRequest(propose.RequestId, PutStage.LoopTaken);
                }

                processor.Propose(propose.RequestId, propose.Data);
                break;
            case HostInput.ReadIndex read:
                processor.ReadIndex(read.ReadId);
                break;
            case HostInput.PeerUnreachable unreachable:
                processor.ReportUnreachable(unreachable.PeerId);
                break;
            case HostInput.SnapshotFailed failed:
                processor.ReportSnapshotFailure(failed.PeerId);
                break;
            case HostInput.SnapshotSent sent:
                processor.ReportSnapshotSent(sent.PeerId);
                break;
            case HostInput.PeerConnectionLost lost:
                processor.ReportConnectionLost(lost.PeerId);
                break;
            case HostInput.RequestUndelivered undelivered:
                processor.FailUndeliveredRequest(undelivered.Message);
                break;
            case HostInput.Campaign:
                processor.Campaign();
                break;
            case HostInput.TransferLeadership transfer:
                processor.TransferLeadership(transfer.Target);
                break;
            case HostInput.ChangeMembership change:
                processor.ChangeMembership(change.ChangeId, change.Request, change.Connected());
                break;
            case HostInput.HandOverLeadership handOver:
                handOver.Target.TrySetResult(processor.HandOverLeadership(handOver.Connected()));
                break;
            case HostInput.RetryWrites:
                RetryNoSpace();
                break;
            case HostInput.SnapshotNow now:
                processor.RequestSnapshotNow(now.Written);
                break;
            case HostInput.CompactToSnapshot compact:
                CompactToDefragmentSnapshot(compact);
                break;
            case HostInput.Wake:
                break;
        }
    }

    /// <summary>One retry of the writes a full disk holds back (the timer's or an operator's).</summary>
    private void RetryNoSpace()
    {
        noSpaceRetryTimer?.Dispose();
        noSpaceRetryTimer = null;
        processor.RetryDiskFull();
    }

    /// <summary>While the alarm is raised, one timer at a time wakes the loop to retry; the backoff resets once it clears.</summary>
    private void ScheduleNoSpaceRetry()
    {
        if (processor.DiskFull.NextRetryDelay() is { } delay && noSpaceRetryTimer is null && !stop.IsCancellationRequested)
        {
            noSpaceRetryTimer = time.CreateTimer(_ => Post(HostInput.RetryWrites.Instance), null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void FailStop(Exception cause)
    {
        if (cause is MemberRemovedException removed)
        {
            HostLog.RemovedFromCluster(logger, options.NodeId, removed.How);
        }
        else
        {
            HostLog.FailStop(logger, options.NodeId, cause.Message, cause);
        }

        CloseInputs();
        timer?.Dispose();
        noSpaceRetryTimer?.Dispose();
        pending.FailAll(ServerErrors.Stopped(cause.Message));
        completion.TrySetException(new NodeFailStopException(options.NodeId, cause));
    }

    /// <summary>No input is taken any more; requests posted from now on fail as stopped.</summary>
    private void CloseInputs()
    {
        closed = true;
        inputs.Writer.TryComplete();
        requests.Writer.TryComplete();
    }

    private NodeException StoppedError() =>
        ServerErrors.Stopped(completion.Task.Exception?.InnerException?.Message ?? "node is shutting down");

    private void ThrowIfStopped()
    {
        if (completion.Task.IsCompleted)
        {
            throw StoppedError();
        }
    }

    /// <summary>Stops the timer, the loop and the transport, and closes storage. Waiting calls fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        timer?.Dispose();
        await stop.CancelAsync().ConfigureAwait(false);
        CloseInputs();
        try
        {
            await loop.ConfigureAwait(false);
        }
        finally
        {
            noSpaceRetryTimer?.Dispose();
            await transport.DisposeAsync().ConfigureAwait(false);
            processor.Dispose();
            storage.Dispose();
            pending.FailAll(ServerErrors.Stopped("node is shutting down"));
            completion.TrySetResult();
            HostLog.Stopped(logger, options.NodeId);
            stop.Dispose();
        }
    }
}
