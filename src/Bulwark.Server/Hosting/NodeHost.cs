using System.Net;
using System.Threading.Channels;
using Bulwark.Api.RaftCmd;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Kv.Validation;
using Bulwark.Server.Transport;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// One running node: a single loop that owns the <see cref="ReadyProcessor"/> (and so the RaftNode), fed through one
/// channel with ticks (a timer on <see cref="TimeProvider"/>), peer messages, proposals, read requests and wake-ups from
/// the apply worker. Every input that arrived since the last Ready rides in the next one, so one fdatasync covers them
/// all (group commit). Applying to the key-value store runs on the processor's apply worker, off this loop.
/// A broken safety invariant or a failed fsync stops the node (fail-stop): <see cref="Completion"/> faults.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly NodeHostOptions options;
    private readonly NodeStorage storage;
    private readonly TcpPeerTransport transport;
    private readonly ReadyProcessor processor;
    private readonly PendingRequests pending;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Channel<HostInput> inputs = Channel.CreateUnbounded<HostInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? timer;
    private Task loop = Task.CompletedTask;
    private Task pump = Task.CompletedTask;
    private int tickQueued;
    private int disposed;

    private NodeHost(NodeHostOptions options, NodeStorage storage, TcpPeerTransport transport, TimeProvider time, ILoggerFactory loggers)
    {
        this.options = options;
        this.storage = storage;
        this.transport = transport;
        this.time = time;
        logger = loggers.CreateLogger<NodeHost>();
        pending = new PendingRequests((ulong)time.GetUtcNow().ToUnixTimeMilliseconds() << 20);
        processor = new ReadyProcessor(options, storage, Observability.ObservedPeerNetwork.Wrap(new TcpPeerNetwork(transport), options.Observer), pending, logger,
            () => Post(HostInput.Wake.Instance));
    }

    public ulong MemberId => options.NodeId;

    public ulong ClusterId => options.EffectiveClusterId;

    public string Name => options.Self.Name;

    public NodeHostOptions Options => options;

    public NodeStatus Status => processor.Status;

    public IReadOnlyList<ClusterMember> Members => processor.Members.All;

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
        var storage = NodeStorage.Open(fileSystem ?? RealFileSystem.Instance, options.DataDir);
        if (storage.Recovery.TornTail is { } torn)
        {
            HostLog.TornTail(loggers.CreateLogger<NodeHost>(), torn.FilePath, torn.Offset, torn.Reason);
        }

        TcpPeerTransport? transport = null;
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
                },
                time,
                loggers.CreateLogger<TcpPeerTransport>());
            var host = new NodeHost(options, storage, transport, time, loggers);
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
        if (Status.Leader == 0)
        {
            throw ServerErrors.NoLeader();
        }

        var id = pending.NextId();
        command.RequestId = id;
        command.Header = new CommandHeader { OriginMemberId = options.NodeId };
        var wait = pending.RegisterProposal(id);
        Post(new HostInput.Propose(id, command.ToByteArray()));
        try
        {
            return await wait.WaitAsync(options.RequestTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            options.Observer?.ProposalFailed();
            pending.Forget(id);
            throw ServerErrors.Timeout();
        }
        catch (OperationCanceledException)
        {
            pending.Forget(id);
            throw;
        }
    }

    /// <summary>Waits until a read on this node is linearizable: leadership confirmed (ReadIndex) and applied up to it.</summary>
    public async Task LinearizableBarrierAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStopped();
        if (Status.Leader == 0)
        {
            throw ServerErrors.NoLeader();
        }

        var id = pending.NextId();
        var wait = pending.RegisterRead(id);
        Post(new HostInput.ReadIndex(id));
        try
        {
            await wait.WaitAsync(options.RequestTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            pending.Forget(id);
            throw ServerErrors.Timeout();
        }
        catch (OperationCanceledException)
        {
            pending.Forget(id);
            throw;
        }
    }

    /// <summary>
    /// The key-value store's estimated data size: bytes of the keys and current values of the live keys
    /// (<see cref="MvccStore.LiveDataBytes"/>). Reported as etcd's db size; the WAL's preallocated files are not counted.
    /// </summary>
    public long KvDataBytes => processor.Read(s => s.LiveDataBytes);

    /// <summary>Reads the local key-value store (serializable: may be behind the leader).</summary>
    public T Read<T>(Func<MvccStore, T> read) => processor.Read(read);

    /// <summary>Starts an election on this node now (tests and operators).</summary>
    public void Campaign() => Post(new HostInput.Campaign());

    private static IPEndPoint ListenEndpointOf(string peerUrl)
    {
        var address = PeerAddress.Parse(peerUrl);
        var ip = address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : IPAddress.TryParse(address.Host, out var parsed) ? parsed : IPAddress.Any;
        return new IPEndPoint(ip, address.Port);
    }

    private void Run()
    {
        transport.PeerUnreachable += id => Post(new HostInput.PeerUnreachable(id));
        transport.SnapshotSendFailed += id => Post(new HostInput.SnapshotFailed(id));
        transport.PeerConnectionLost += id => Post(new HostInput.PeerConnectionLost(id));
        transport.Start();
        pump = Task.Run(PumpAsync);
        loop = Task.Run(LoopAsync);
        timer = time.CreateTimer(_ => OnTick(), null, options.HeartbeatInterval, options.HeartbeatInterval);
    }

    private void OnTick()
    {
        if (Interlocked.Exchange(ref tickQueued, 1) == 0)
        {
            Post(HostInput.Tick.Instance);
        }
    }

    private void Post(HostInput input)
    {
        if (!inputs.Writer.TryWrite(input))
        {
            if (input is HostInput.Propose propose)
            {
                pending.FailProposal(propose.RequestId, StoppedError());
            }
            else if (input is HostInput.ReadIndex read)
            {
                pending.FailRead(read.ReadId, StoppedError());
            }
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var message in transport.Incoming.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                options.Observer?.MessageReceived(message);
                Post(new HostInput.PeerMessage(message));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LoopAsync()
    {
        var reader = inputs.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                var handled = 0;
                while (handled < 4096 && reader.TryRead(out var input))
                {
                    Handle(input);
                    handled++;
                }

                processor.ProcessReadies();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            FailStop(e);
            return;
        }

        pending.FailAll(StoppedError());
        completion.TrySetResult();
    }

    private void Handle(HostInput input)
    {
        switch (input)
        {
            case HostInput.Tick:
                Volatile.Write(ref tickQueued, 0);
                processor.Tick();
                break;
            case HostInput.PeerMessage peer:
                processor.Step(peer.Message);
                break;
            case HostInput.Propose propose:
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
            case HostInput.PeerConnectionLost lost:
                processor.ReportConnectionLost(lost.PeerId);
                break;
            case HostInput.Campaign:
                processor.Campaign();
                break;
            case HostInput.Wake:
                break;
        }
    }

    private void FailStop(Exception cause)
    {
        HostLog.FailStop(logger, options.NodeId, cause.Message, cause);
        inputs.Writer.TryComplete();
        timer?.Dispose();
        pending.FailAll(ServerErrors.Stopped(cause.Message));
        completion.TrySetException(new NodeFailStopException(options.NodeId, cause));
    }

    private Grpc.Core.RpcException StoppedError() =>
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
        inputs.Writer.TryComplete();
        try
        {
            await loop.ConfigureAwait(false);
            await pump.ConfigureAwait(false);
        }
        finally
        {
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
