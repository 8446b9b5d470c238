namespace Bulwark.Consensus;

/// <summary>
/// One node's Raft state machine. It does no I/O, reads no clock and owns no thread: the host feeds it ticks,
/// messages and requests, then drains a <see cref="Ready"/> and calls <see cref="Advance"/>. Not thread-safe:
/// exactly one loop may call it.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>Builds a node from what it recovered from disk (or <see cref="RaftState.Bootstrap"/>).</summary>
    public RaftNode(RaftConfig config, RaftState state, IRandomSource random)
    {
        throw new NotImplementedException("contract stub: implemented by the consensus core");
    }

    public ulong Id => throw new NotImplementedException();

    /// <summary>Advances logical time by one tick (election and heartbeat timers).</summary>
    public void Tick() => throw new NotImplementedException();

    /// <summary>Feeds a message from a peer. Stale or malformed messages are ignored; a broken invariant throws <see cref="RaftInvariantException"/>.</summary>
    public void Step(Message message) => throw new NotImplementedException();

    /// <summary>Proposes application data. On a follower it is forwarded to the known leader.</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data) => throw new NotImplementedException();

    /// <summary>Proposes one membership change (one at a time; see docs/architecture.md).</summary>
    public ProposeResult ProposeConfigChange(ConfigChange change) => throw new NotImplementedException();

    /// <summary>Requests a linearizable read point; the answer arrives as a <see cref="ReadState"/> with the same context.</summary>
    public ProposeResult ReadIndex(ReadOnlyMemory<byte> context) => throw new NotImplementedException();

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/> once it is caught up.</summary>
    public void TransferLeadership(ulong target) => throw new NotImplementedException();

    /// <summary>Starts an election now (tests and operators).</summary>
    public void Campaign() => throw new NotImplementedException();

    /// <summary>True when <see cref="GetReady"/> has something for the host.</summary>
    public bool HasReady => throw new NotImplementedException();

    /// <summary>Collects everything the host must do. Call <see cref="Advance"/> with it when done.</summary>
    public Ready GetReady() => throw new NotImplementedException();

    /// <summary>Reports that <paramref name="ready"/> was handled: its entries and hard state are durable, its committed entries applied.</summary>
    public void Advance(Ready ready) => throw new NotImplementedException();

    /// <summary>
    /// The host saved a snapshot of the state machine at <paramref name="index"/> (at most the applied index):
    /// entries up to it may be dropped, and followers behind it get InstallSnapshot.
    /// </summary>
    public void Compact(ulong index) => throw new NotImplementedException();

    /// <summary>Reports that a snapshot sent to <paramref name="to"/> failed to arrive, so it is probed again.</summary>
    public void ReportSnapshotFailure(ulong to) => throw new NotImplementedException();

    /// <summary>Reports that <paramref name="to"/> is unreachable, so replication to it drops back to probing.</summary>
    public void ReportUnreachable(ulong to) => throw new NotImplementedException();

    public RaftStatus Status() => throw new NotImplementedException();
}
