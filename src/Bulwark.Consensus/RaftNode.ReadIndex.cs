using System.Buffers.Binary;
using Bulwark.Consensus.Tracking;

namespace Bulwark.Consensus;

/// <summary>
/// Linearizable reads by ReadIndex (dissertation §6.4). Each request gets a sequence number; heartbeats carry
/// the newest one and followers echo it. A heartbeat answered for sequence s proves we still led when every
/// request up to s was registered, so a request is confirmed once a majority acknowledged a sequence at or past it.
/// </summary>
public sealed partial class RaftNode
{
    private readonly Queue<PendingRead> readsAwaitingTermCommit = new();
    private readonly Queue<PendingRead> readsAwaitingQuorum = new();

    /// <summary>Reads arrived since the last heartbeat round: the next Ready starts one.</summary>
    private bool readRoundPending;

    /// <summary>Monotonic over the node's life, so an acknowledgement can never be mistaken for a later request's.</summary>
    private ulong readSequence;

    private readonly record struct PendingRead(ulong Sequence, ulong Index, ulong From, ReadOnlyMemory<byte> Context);

    /// <summary>Requests a linearizable read point; the answer arrives as a <see cref="ReadState"/> with the same context.</summary>
    public ProposeResult ReadIndex(ReadOnlyMemory<byte> context)
    {
        switch (role)
        {
            case Role.Leader:
                HandleReadRequest(Id, context);
                AssertInvariants();
                return new ProposeResult(ProposeStatus.Accepted, Term: term, Leader: Id);
            case Role.Follower when lead != 0:
                Send(new Message { Type = MessageType.ReadIndex, From = Id, To = lead, Context = context });
                return new ProposeResult(ProposeStatus.Forwarded, Leader: lead);
            default:
                return new ProposeResult(ProposeStatus.NoLeader, Term: term);
        }
    }

    private bool CommittedInCurrentTerm => log.TermOrZero(log.Committed) == term;

    private void HandleReadRequest(ulong from, ReadOnlyMemory<byte> context)
    {
        if (faults.ReadIndexWithoutQuorumCheck)
        {
            AnswerRead(from, log.Committed, context);
            return;
        }

        // Until an entry of our term commits we may not know the latest commit index (§6.4 step 1).
        if (!CommittedInCurrentTerm && !faults.ReadIndexBeforeTermCommit)
        {
            readsAwaitingTermCommit.Enqueue(new PendingRead(0, 0, from, context));
            return;
        }

        var voters = tracker.Config.Voters;
        if (voters.Count == 1 && voters.Contains(Id))
        {
            AnswerRead(from, log.Committed, context);
            return;
        }

        readSequence++;
        readsAwaitingQuorum.Enqueue(new PendingRead(readSequence, log.Committed, from, context));
        // One heartbeat round per Ready confirms every read registered since the last one.
        readRoundPending = true;
        ReleaseConfirmedReads();
    }

    private void AnswerRead(ulong to, ulong index, ReadOnlyMemory<byte> context)
    {
        if (to == Id)
        {
            readStates.Add(new ReadState(index, context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = to, Term = term, Index = index, Context = context });
        }
    }

    private ReadOnlyMemory<byte> PendingReadContext()
    {
        if (readsAwaitingQuorum.Count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var context = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(context, readSequence);
        return context;
    }

    private void AcknowledgeRead(Progress progress, ReadOnlyMemory<byte> context)
    {
        if (context.Length != 8)
        {
            return;
        }

        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(context.Span);
        if (sequence > readSequence)
        {
            return;
        }

        progress.ReadAck = Math.Max(progress.ReadAck, sequence);
        ReleaseConfirmedReads();
    }

    private void ReleaseConfirmedReads()
    {
        if (readsAwaitingQuorum.Count == 0)
        {
            return;
        }

        var confirmed = tracker.QuorumReadAck(Id, readSequence);
        while (readsAwaitingQuorum.TryPeek(out var read) && read.Sequence <= confirmed)
        {
            readsAwaitingQuorum.Dequeue();
            AnswerRead(read.From, read.Index, read.Context);
        }
    }

    private void OnFirstCommitInTerm()
    {
        var count = readsAwaitingTermCommit.Count;
        for (var i = 0; i < count; i++)
        {
            var read = readsAwaitingTermCommit.Dequeue();
            HandleReadRequest(read.From, read.Context);
        }
    }

    /// <summary>On any role change pending reads are dropped: the host retries them (they were never answered).</summary>
    private void ResetReads()
    {
        readRoundPending = false;
        readsAwaitingTermCommit.Clear();
        readsAwaitingQuorum.Clear();
    }
}
