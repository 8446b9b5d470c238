using System.Buffers.Binary;
using Bulwark.Consensus;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// The sim host of one <see cref="RaftNode"/>: the same duties as the real node host, done on virtual time.
/// Per Ready it sends Messages, writes snapshot, entries and hard state to its disk, waits for the simulated
/// sync, then sends MessagesAfterPersist, applies committed entries, answers read states and calls Advance.
/// A crash drops the core and everything in memory; a restart rebuilds both from what the disk kept.
/// </summary>
public sealed class SimNode
{
    private readonly SimWorld world;
    private readonly RaftConfig config;
    private readonly Dictionary<long, Action<ClientReply>> waitingWrites = [];
    private readonly Dictionary<long, (string Key, Action<ClientReply> Reply)> waitingReadIndex = [];
    private readonly List<(ulong Index, string Key, Action<ClientReply> Reply)> waitingApply = [];
    private readonly DeterministicRandom random;
    private RaftNode? raft;
    private int incarnation;
    private bool readyInFlight;
    private ulong snapshotIndex;
    private Role role;
    private ulong lastCommit;

    public SimNode(SimWorld world, RaftConfig config, ISimDisk disk, IReplicatedStateMachine stateMachine, long tickInterval)
    {
        this.world = world;
        this.config = config;
        Disk = disk;
        StateMachine = stateMachine;
        TickInterval = tickInterval;
        random = world.Random.Fork(config.Id);
    }

    public ulong Id => config.Id;

    public ISimDisk Disk { get; }

    public IReplicatedStateMachine StateMachine { get; }

    /// <summary>Virtual microseconds between this node's ticks (differs per node under clock skew).</summary>
    public long TickInterval { get; }

    public bool IsUp => raft is not null;

    /// <summary>Removed from the cluster and stopped for good.</summary>
    public bool IsRetired { get; private set; }

    public ulong Applied { get; private set; }

    public ulong AppliedTerm { get; private set; }

    /// <summary>The membership as of <see cref="Applied"/> (configurations take effect when appended; this is the
    /// one the snapshot at Applied must carry).</summary>
    public ClusterConfig AppliedConfig { get; private set; } = ClusterConfig.Of();

    public int Restarts { get; private set; }

    public RaftStatus? Status() => raft?.Status();

    public SoftState? SoftState => raft?.Status().SoftState;

    public void Start()
    {
        if (IsUp || IsRetired)
        {
            throw new SimulationException($"node {Id} cannot start: it is {(IsUp ? "already up" : "retired")}");
        }

        var image = Disk.Recover();
        StateMachine.Restore(image.SnapshotData);
        snapshotIndex = image.Snapshot?.Index ?? 0;
        Applied = snapshotIndex;
        AppliedTerm = image.Snapshot?.Term ?? 0;
        AppliedConfig = image.Snapshot?.Config ?? ClusterConfig.Of();
        var state = new RaftState(image.HardState, image.Snapshot, [.. image.Entries], Applied);
        incarnation++;
        readyInFlight = false;
        role = Role.Follower;
        lastCommit = image.HardState.Commit;
        raft = new RaftNode(config, state, random);
        world.Trace(Id, "start", (long)image.HardState.Term, (long)image.LastIndex);
        ScheduleTick(incarnation);
        Pump();
    }

    /// <summary>Power loss: the core and every in-memory structure vanish; clients waiting here never hear back.</summary>
    public void Crash()
    {
        if (!IsUp)
        {
            return;
        }

        raft = null;
        incarnation++;
        readyInFlight = false;
        waitingWrites.Clear();
        waitingReadIndex.Clear();
        waitingApply.Clear();
        Disk.Crash(random, world.Plan.TornWrites, world.Plan.TornWrites);
        Restarts++;
        world.Trace(Id, "crash", 0, 0);
    }

    /// <summary>Stops the node for good (it was removed from the membership).</summary>
    public void Retire()
    {
        Crash();
        IsRetired = true;
    }

    public void Receive(Message message)
    {
        if (raft is null)
        {
            return;
        }

        raft.Step(message);
        Pump();
    }

    public void SubmitWrite(SimCommand command, Action<ClientReply> reply)
    {
        if (raft is null)
        {
            reply(ClientReply.Unavailable);
            return;
        }

        waitingWrites[command.RequestId] = reply;
        var result = raft.Propose(command.Encode());
        if (!result.IsAccepted)
        {
            waitingWrites.Remove(command.RequestId);
            reply(ClientReply.Refused(result.Status));
        }

        Pump();
    }

    public void SubmitRead(long requestId, string key, Action<ClientReply> reply)
    {
        if (raft is null)
        {
            reply(ClientReply.Unavailable);
            return;
        }

        if (world.Sabotage.HasFlag(Sabotage.ReadWithoutReadIndex))
        {
            reply(ClientReply.Ok(StateMachine.Read(key)));
            return;
        }

        waitingReadIndex[requestId] = (key, reply);
        var context = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(context, requestId);
        var result = raft.ReadIndex(context);
        if (!result.IsAccepted)
        {
            waitingReadIndex.Remove(requestId);
            reply(ClientReply.Refused(result.Status));
        }

        Pump();
    }

    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        var result = raft?.ProposeConfigChange(change) ?? new ProposeResult(ProposeStatus.NoLeader);
        Pump();
        return result;
    }

    public void TransferLeadership(ulong target)
    {
        raft?.TransferLeadership(target);
        Pump();
    }

    /// <summary>The transport could not reach <paramref name="message"/>'s target (link cut or node down).</summary>
    public void ReportUndeliverable(Message message)
    {
        if (raft is null)
        {
            return;
        }

        if (message.Type == MessageType.Snapshot)
        {
            raft.ReportSnapshotFailure(message.To);
        }
        else
        {
            raft.ReportUnreachable(message.To);
        }

        Pump();
    }

    /// <summary>The transport saw the connection to or from <paramref name="peer"/> close (or was told so falsely).</summary>
    public void ReportConnectionLost(ulong peer)
    {
        if (raft is null)
        {
            return;
        }

        world.Trace(Id, "connection-lost", (long)peer, 0);
        raft.ReportConnectionLost(peer);
        Pump();
    }

    private void ScheduleTick(int forIncarnation)
    {
        world.Scheduler.After(TickInterval, () =>
        {
            if (forIncarnation != incarnation || raft is null)
            {
                return;
            }

            raft.Tick();
            Pump();
            ScheduleTick(forIncarnation);
        });
    }

    /// <summary>Takes the next Ready if the previous one is done (one Ready at a time, as the contract requires).</summary>
    private void Pump()
    {
        if (raft is null || readyInFlight || !raft.HasReady)
        {
            return;
        }

        var ready = raft.GetReady();
        readyInFlight = true;
        Persist(ready);
        var me = incarnation;
        if (ready.MustSync)
        {
            world.Scheduler.After(world.Random.Between(0, world.Plan.SyncLatencyMax), () =>
            {
                if (me == incarnation)
                {
                    Finish(ready);
                }
            });
        }
        else
        {
            Finish(ready);
        }
    }

    private void Persist(Ready ready)
    {
        foreach (var message in ready.Messages)
        {
            world.Network.Send(WithSnapshotData(message));
        }

        if (ready.Snapshot is { } snapshot)
        {
            Disk.InstallSnapshot(snapshot.Metadata, snapshot.Data);
        }

        if (!ready.Entries.IsEmpty)
        {
            Disk.Append(ready.Entries);
            world.Monitor.OnAppend(Id, ready.Entries);
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
            if (wasLeader && hardState.Commit > lastCommit && Disk.TermAt(hardState.Commit) is var commitTerm && commitTerm != hardState.Term)
            {
                world.Monitor.OnLeaderCommittedOldTerm(Id, hardState.Term, hardState.Commit, commitTerm);
            }

            lastCommit = hardState.Commit;
            Disk.WriteHardState(world.Sabotage.HasFlag(Sabotage.VoteNotPersisted) ? hardState with { Vote = 0 } : hardState);
            world.Monitor.OnHardState(Id, hardState, Disk.TermAt(hardState.Commit));
        }

        if (ready.SoftState is { } soft)
        {
            world.Trace(Id, "role", (long)soft.Role, (long)soft.Term);
            if (soft.Role == Role.Leader)
            {
                world.Monitor.OnLeader(Id, soft.Term, Disk.Current);
            }
        }

        if (world.Sabotage.HasFlag(Sabotage.AckBeforePersist))
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                world.Network.Send(message);
            }
        }
    }

    private void Finish(Ready ready)
    {
        // As the node host does: a Ready whose only change is the commit index is written but not synced, so a crash
        // may lose it (the commit index is volatile state).
        if (ready.MustSync)
        {
            Disk.Sync();
        }

        if (!world.Sabotage.HasFlag(Sabotage.AckBeforePersist))
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                world.Network.Send(message);
            }
        }

        if (ready.Snapshot is { } snapshot)
        {
            StateMachine.Restore(snapshot.Data.Span);
            snapshotIndex = snapshot.Metadata.Index;
            Applied = snapshot.Metadata.Index;
            AppliedTerm = snapshot.Metadata.Term;
            AppliedConfig = snapshot.Metadata.Config;
            world.OnConfigApplied(Id, Applied, AppliedConfig);
            world.Trace(Id, "install-snapshot", (long)Applied, (long)AppliedTerm);
        }

        foreach (var entry in ready.CommittedEntries)
        {
            Apply(entry);
        }

        foreach (var readState in ready.ReadStates)
        {
            var requestId = BinaryPrimitives.ReadInt64LittleEndian(readState.Context.Span);
            if (waitingReadIndex.Remove(requestId, out var read))
            {
                waitingApply.Add((readState.Index, read.Key, read.Reply));
            }
        }

        ServeReads();
        raft!.Advance(ready);
        readyInFlight = false;
        MaybeCompact();
        Pump();
    }

    private void Apply(Entry entry)
    {
        if (entry.Index != Applied + 1)
        {
            throw new SimulationException($"node {Id} was handed entry {entry} to apply, but it has applied up to {Applied}");
        }

        world.Monitor.OnApply(Id, entry);
        Applied = entry.Index;
        AppliedTerm = entry.Term;
        if (entry.Type == EntryType.ConfigChange)
        {
            AppliedConfig = Membership.Apply(AppliedConfig, ConfigChange.Decode(entry.Data.Span));
            world.OnConfigApplied(Id, entry.Index, AppliedConfig);
        }
        else if (!entry.Data.IsEmpty)
        {
            var command = SimCommand.Decode(entry.Data);
            var output = StateMachine.Apply(command);
            if (output is not null && waitingWrites.Remove(command.RequestId, out var reply))
            {
                reply(ClientReply.Ok(output));
            }
        }
    }

    private void ServeReads()
    {
        for (var i = 0; i < waitingApply.Count; i++)
        {
            var (index, key, reply) = waitingApply[i];
            if (index <= Applied)
            {
                waitingApply.RemoveAt(i--);
                reply(ClientReply.Ok(StateMachine.Read(key)));
            }
        }
    }

    private void MaybeCompact()
    {
        var every = world.Plan.CompactEvery;
        if (every <= 0 || Applied < snapshotIndex + (ulong)every || raft is null)
        {
            return;
        }

        Disk.SaveSnapshot(new SnapshotMetadata(Applied, AppliedTerm, AppliedConfig), StateMachine.TakeSnapshot());
        Disk.Sync();
        raft.Compact(Applied, (ulong)world.Plan.CompactKeep);
        snapshotIndex = Applied;
        world.Trace(Id, "compact", (long)Applied, 0);
    }

    private Message WithSnapshotData(Message message)
    {
        if (message.Type != MessageType.Snapshot || message.Snapshot is null)
        {
            return message;
        }

        // The core may have asked for this snapshot before the host compacted again; a host keeps only its newest
        // snapshot, and sending that one (with its own metadata) is as good: it covers everything the older did.
        var image = Disk.Current;
        if (image.Snapshot is null || image.Snapshot.Index < message.Snapshot.Metadata.Index)
        {
            throw new SimulationException(
                $"node {Id} sends snapshot {message.Snapshot.Metadata.Index}@{message.Snapshot.Metadata.Term} but its disk holds {image.Snapshot?.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        }

        return message with { Snapshot = new Snapshot(image.Snapshot, image.SnapshotData) };
    }
}
