using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>The output side: collecting a <see cref="Ready"/> and learning from <see cref="Advance"/> what became durable.</summary>
public sealed partial class RaftNode
{
    private readonly List<Message> messages = [];
    private readonly List<Message> messagesAfterPersist = [];
    private readonly List<ReadState> readStates = [];

    private SoftState lastSoftState;
    private HardState lastHardState;

    /// <summary>Term and vote the host reported durable: the leader's messages may leave early only in that term.</summary>
    private ulong durableTerm;

    private ulong durableVote;

    /// <summary>The Ready handed out and not yet advanced (at most one at a time).</summary>
    private Ready? outstanding;

    /// <summary>True when <see cref="GetReady"/> has something for the host.</summary>
    public bool HasReady =>
        ((broadcastPending || readRoundPending) && role == Role.Leader) ||
        messages.Count > 0 || messagesAfterPersist.Count > 0 || readStates.Count > 0 ||
        log.HasUnstable || log.PendingSnapshot is not null || log.HasNextCommitted ||
        CurrentSoftState() != lastSoftState || CurrentHardState() != lastHardState;

    /// <summary>Collects everything the host must do. Call <see cref="Advance"/> with it when done.</summary>
    /// <exception cref="InvalidOperationException">The previous Ready was not advanced yet.</exception>
    public Ready GetReady()
    {
        if (outstanding is not null)
        {
            throw new InvalidOperationException("GetReady called again before Advance of the previous Ready");
        }

        FlushBroadcast();
        var soft = CurrentSoftState();
        var hard = CurrentHardState();
        var ready = new Ready
        {
            SoftState = soft != lastSoftState ? soft : null,
            HardState = hard != lastHardState ? hard : null,
            HardStateCommitOnly = hard != lastHardState && hard.Term == lastHardState.Term && hard.Vote == lastHardState.Vote,
            Snapshot = log.TakePendingSnapshot(),
            Entries = log.TakeUnstable(),
            CommittedEntries = log.TakeNextCommitted(),
            Messages = Drain(messages),
            MessagesAfterPersist = Drain(messagesAfterPersist),
            ReadStates = Drain(readStates),
        };

        lastSoftState = soft;
        lastHardState = hard;
        outstanding = ready;
        return ready;
    }

    /// <summary>Reports that <paramref name="ready"/> was handled: its entries and hard state are durable, its committed entries applied.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!ReferenceEquals(ready, outstanding))
        {
            throw new RaftInvariantException(outstanding is null
                ? "Advance called with no Ready outstanding"
                : "Advance called with a Ready that is not the one last returned by GetReady");
        }

        outstanding = null;
        if (ready.HardState is { } hard)
        {
            durableTerm = hard.Term;
            durableVote = hard.Vote;
        }

        if (ready.Snapshot is { } snapshot)
        {
            log.SnapshotInstalled(snapshot.Metadata.Index);
        }

        if (!ready.Entries.IsEmpty)
        {
            var last = ready.Entries[^1];
            log.StableTo(last.Index, last.Term);
        }

        if (!ready.CommittedEntries.IsEmpty)
        {
            log.AppliedTo(ready.CommittedEntries[^1].Index);
        }

        // The leader's own copy now counts toward the quorum.
        if (role == Role.Leader)
        {
            MaybeCommit();
        }

        AssertInvariants();
    }

    private HardState CurrentHardState() => new(term, vote, log.Committed);

    private static ImmutableArray<T> Drain<T>(List<T> list)
    {
        if (list.Count == 0)
        {
            return [];
        }

        var result = ImmutableArray.CreateRange(list);
        list.Clear();
        return result;
    }
}
