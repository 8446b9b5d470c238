using System.Buffers.Binary;
using Bulwark.Consensus;
using Bulwark.Kv;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The deterministic heart of the node host: owns the <see cref="RaftNode"/>, and turns each <see cref="Ready"/>
/// into sends, one durable write, snapshot installs, applied entries, completed client calls and answered reads,
/// in the order <see cref="Ready"/> documents. No sockets, timers or threads: <see cref="NodeHost"/> drives it from
/// one loop, and a test or simulator can drive it directly. Not thread-safe, except <see cref="Read{T}"/>.
/// </summary>
public sealed class ReadyProcessor
{
    private const int PublishRetryTicks = 20;

    private readonly NodeHostOptions options;
    private readonly NodeStorage storage;
    private readonly IPeerNetwork network;
    private readonly PendingRequests pending;
    private readonly ILogger logger;
    private readonly RaftNode node;
    private readonly KvStateMachine kv = new();
    private readonly Lock storeLock = new();
    private readonly MemberAttributes selfAttributes;
    private readonly List<ApplyResult> results = [];

    private ClusterConfig appliedConfig;
    private ulong applied;
    private ulong appliedTerm;
    private ulong lastSnapshotIndex;
    private SoftState soft;
    private ulong previousLeader;
    private bool published;
    private int ticksSincePublish = PublishRetryTicks;
    private NodeStatus status;

    public ReadyProcessor(NodeHostOptions options, NodeStorage storage, IPeerNetwork network, PendingRequests pending, ILogger logger)
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
        Members = new MemberTable(options.InitialCluster);
        selfAttributes = new MemberAttributes(options.NodeId, options.Self.Name, [.. options.AdvertiseClientUrls]);

        var initialConfig = ClusterConfig.Of([.. options.InitialCluster.Select(m => m.Id)]);
        var bootstrap = storage.IsEmpty;
        var state = storage.BuildRaftState(initialConfig);
        if (storage.NewestSnapshot is { } snapshot)
        {
            RestoreFromDisk(snapshot);
        }

        appliedConfig = state.Snapshot?.Config ?? initialConfig;
        applied = state.Applied;
        appliedTerm = state.Snapshot?.Term ?? 0;
        lastSnapshotIndex = applied;

        var seed = options.RandomSeed != 0 ? options.RandomSeed : (int)(options.NodeId ^ (options.NodeId >> 32));
        node = new RaftNode(
            new RaftConfig
            {
                Id = options.NodeId,
                ElectionTicks = options.ElectionTicks,
                HeartbeatTicks = 1,
                PreVote = true,
                CheckQuorum = true,
                MaxUncommittedBytes = 64L << 20,
            },
            state,
            new SeededRandom(seed));
        soft = new SoftState(0, Role.Follower, state.HardState.Term);
        status = BuildStatus();
        HostLog.Started(logger, options.NodeId, options.Self.Name, options.EffectiveClusterId, state.HardState.Term,
            state.HardState.Commit, state.Snapshot?.Index ?? 0, state.Entries.Length, bootstrap);
    }

    public MemberTable Members { get; }

    /// <summary>The newest published status (safe to read from any thread).</summary>
    public NodeStatus Status => Volatile.Read(ref status);

    /// <summary>Reads the key-value store under its lock (any thread).</summary>
    public T Read<T>(Func<MvccStore, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (storeLock)
        {
            return read(kv.Store);
        }
    }

    public void Tick()
    {
        node.Tick();
        ticksSincePublish++;
        MaybePublishAttributes();
    }

    public void Step(Message message) => node.Step(message);

    public void ReportUnreachable(ulong peer) => node.ReportUnreachable(peer);

    public void ReportSnapshotFailure(ulong peer) => node.ReportSnapshotFailure(peer);

    /// <summary>Starts an election now (operators and tests).</summary>
    public void Campaign() => node.Campaign();

    /// <summary>Proposes a command; its caller waits in <see cref="PendingRequests"/> under <paramref name="requestId"/>.</summary>
    public void Propose(ulong requestId, byte[] data)
    {
        var result = node.Propose(data);
        var error = ErrorFor(result.Status);
        if (error is not null)
        {
            pending.FailProposal(requestId, error);
        }
    }

    /// <summary>Asks for a linearizable read point; its caller waits in <see cref="PendingRequests"/> under <paramref name="readId"/>.</summary>
    public void ReadIndex(ulong readId)
    {
        var context = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(context, readId);
        var result = node.ReadIndex(context);
        var error = ErrorFor(result.Status);
        if (error is not null)
        {
            pending.FailRead(readId, error);
        }
    }

    /// <summary>Handles every Ready the core has.</summary>
    public void ProcessReadies()
    {
        while (node.HasReady)
        {
            Handle(node.GetReady());
        }
    }

    private static Grpc.Core.RpcException? ErrorFor(ProposeStatus status) => status switch
    {
        ProposeStatus.Accepted or ProposeStatus.Forwarded => null,
        ProposeStatus.NoLeader => ServerErrors.NoLeader(),
        ProposeStatus.TooManyUncommitted => ServerErrors.TooManyRequests(),
        _ => ServerErrors.LeaderChanged(),
    };

    private void Handle(Ready ready)
    {
        if (ready.SoftState is { } newSoft)
        {
            OnSoftState(newSoft);
        }

        foreach (var message in ready.Messages)
        {
            Send(message);
        }

        var persistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        storage.Persist(ready);
        options.Observer?.Persisted(System.Diagnostics.Stopwatch.GetElapsedTime(persistStarted), ready.MustSync);
        if (ready.Snapshot is { Metadata.Index: > 0 } snapshot)
        {
            InstallSnapshot(snapshot);
        }

        foreach (var message in ready.MessagesAfterPersist)
        {
            Send(message);
        }

        if (!ready.CommittedEntries.IsEmpty)
        {
            Apply(ready.CommittedEntries);
        }

        foreach (var read in ready.ReadStates)
        {
            if (read.Context.Length == 8)
            {
                pending.ReadConfirmed(BinaryPrimitives.ReadUInt64LittleEndian(read.Context.Span), read.Index, applied);
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
        MaybeSnapshot();
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
        }

        soft = next;
    }

    private void Send(Message message)
    {
        if (message.Type == MessageType.Snapshot && message.Snapshot is { Metadata.Index: > 0, Data.IsEmpty: true } wanted)
        {
            var newest = storage.NewestSnapshot;
            if (newest is null || newest.Index != wanted.Metadata.Index)
            {
                HostLog.SnapshotUnavailable(logger, message.To, wanted.Metadata.Index,
                    newest is null ? "no snapshot file" : $"newest snapshot is at {newest.Index}");
                node.ReportSnapshotFailure(message.To);
                return;
            }

            using var reader = storage.OpenSnapshot(newest.Index, newest.Term);
            message = message with { Snapshot = new Snapshot(reader.Metadata, reader.ReadAllData()) };
        }

        network.Send(message);
    }

    private void InstallSnapshot(Snapshot snapshot)
    {
        RestoreState(snapshot);
        appliedConfig = snapshot.Metadata.Config;
        applied = snapshot.Metadata.Index;
        appliedTerm = snapshot.Metadata.Term;
        lastSnapshotIndex = applied;
        pending.Applied(applied);
        foreach (var member in Members.All)
        {
            if (member.Id != options.NodeId && member.PeerUrls.Count > 0)
            {
                network.AddPeer(member.Id, member.PeerUrls[0]);
            }
        }

        HostLog.SnapshotInstalled(logger, snapshot.Metadata.Index, snapshot.Metadata.Term, snapshot.Data.Length);
        options.Observer?.SnapshotInstalled(snapshot.Metadata.Index, snapshot.Data.Length);
    }

    private void RestoreFromDisk(SnapshotMetadata metadata)
    {
        using var reader = storage.OpenSnapshot(metadata.Index, metadata.Term);
        var members = MemberTable.Deserialize(SnapshotPayload.ReadMembers(reader));
        lock (storeLock)
        {
            kv.RestoreSnapshot(reader);
        }

        // Reading to the end verifies the file's checksum.
        reader.CopyTo(Stream.Null);
        Members.Replace(members);
    }

    private void RestoreState(Snapshot snapshot)
    {
        var (membersJson, kvData) = SnapshotPayload.Decode(snapshot.Data);
        var members = MemberTable.Deserialize(membersJson.Span);
        using var stream = new MemoryStream(kvData.ToArray(), writable: false);
        lock (storeLock)
        {
            kv.RestoreSnapshot(stream);
        }

        Members.Replace(members);
    }

    private void Apply(System.Collections.Immutable.ImmutableArray<Entry> entries)
    {
        results.Clear();
        lock (storeLock)
        {
            foreach (var entry in entries)
            {
                if (entry.Index <= applied)
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
                else if (!entry.Data.IsEmpty)
                {
                    var result = kv.Apply(entry.Data.Span);
                    if (result.OriginMemberId == options.NodeId)
                    {
                        results.Add(result);
                    }
                }

                applied = entry.Index;
                appliedTerm = entry.Term;
            }
        }

        foreach (var result in results)
        {
            pending.CompleteProposal(result);
        }

        pending.Applied(applied);
    }

    private void ApplyAttributes(MemberAttributes attributes)
    {
        Members.SetAttributes(attributes);
        if (attributes.SameAs(selfAttributes))
        {
            published = true;
        }

        HostLog.MemberPublished(logger, attributes.Id, attributes.Name, string.Join(",", attributes.ClientUrls));
    }

    private void ApplyConfigChange(ConfigChange change)
    {
        var voters = appliedConfig.Voters;
        var learners = appliedConfig.Learners;
        switch (change.Type)
        {
            case ConfigChangeType.AddVoter:
            case ConfigChangeType.PromoteLearner:
                voters = voters.Add(change.NodeId);
                learners = learners.Remove(change.NodeId);
                break;
            case ConfigChangeType.AddLearner:
                learners = learners.Add(change.NodeId);
                break;
            case ConfigChangeType.RemoveVoter:
                voters = voters.Remove(change.NodeId);
                learners = learners.Remove(change.NodeId);
                break;
        }

        appliedConfig = appliedConfig with { Voters = voters, Learners = learners };
        var member = Members.Apply(change);
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
    }

    private void MaybeSnapshot()
    {
        if (applied - lastSnapshotIndex < options.SnapshotThreshold)
        {
            return;
        }

        var snapshotStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        var metadata = new SnapshotMetadata(applied, appliedTerm, appliedConfig);
        long bytes = 0;
        lock (storeLock)
        {
            storage.WriteSnapshot(metadata, stream =>
            {
                SnapshotPayload.Write(stream, Members.Serialize(), kv.WriteSnapshot);
                bytes = stream.Length;
            });
        }

        storage.ReleaseLogUpTo(metadata.Index, metadata.Term);
        node.Compact(applied);
        lastSnapshotIndex = applied;
        HostLog.SnapshotTaken(logger, metadata.Index, metadata.Term, bytes);
        options.Observer?.SnapshotTaken(metadata.Index, bytes, System.Diagnostics.Stopwatch.GetElapsedTime(snapshotStarted));
    }

    private void MaybePublishAttributes()
    {
        if (published || ticksSincePublish < PublishRetryTicks || soft.Leader == 0)
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
            applied, s.LastIndex, lastSnapshotIndex);
    }
}
