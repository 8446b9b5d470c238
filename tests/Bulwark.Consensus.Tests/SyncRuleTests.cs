namespace Bulwark.Consensus.Tests;

/// <summary>
/// Which Readies need a sync (etcd raft's MustSync): new entries, a snapshot, a new term or vote. A commit index
/// alone does not; it is volatile state, and syncing it cost every put a second fdatasync on every node.
/// </summary>
public sealed class SyncRuleTests
{
    [Fact]
    public void A_follower_learning_a_higher_commit_index_writes_it_without_a_sync()
    {
        var node = new RaftNode(new RaftConfig { Id = 1 }, ReplicationTests.StateWithLog([1, 1, 1], commit: 1, term: 1), new SeededRandom(1));
        node.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 1, Commit = 3 });

        var ready = node.GetReady();

        Assert.Equal(new HardState(1, 0, 3), ready.HardState);
        Assert.True(ready.HardStateCommitOnly);
        Assert.False(ready.MustSync);
        Assert.Equal([2UL, 3UL], ready.CommittedEntries.Select(e => e.Index));
        node.Advance(ready);
    }

    [Fact]
    public void Entries_with_a_new_commit_index_are_synced()
    {
        var node = new RaftNode(new RaftConfig { Id = 1 }, ReplicationTests.StateWithLog([1], commit: 1, term: 1), new SeededRandom(1));
        node.Step(new Message
        {
            Type = MessageType.Append, From = 2, To = 1, Term = 1, Index = 1, LogTerm = 1, Commit = 2,
            Entries = [new Entry(1, 2, EntryType.Normal, new byte[] { 7 })],
        });

        var ready = node.GetReady();

        Assert.True(ready.HardStateCommitOnly);
        Assert.True(ready.MustSync);
        node.Advance(ready);
    }

    [Fact]
    public void A_new_term_is_synced_even_when_the_commit_index_moves_with_it()
    {
        var node = new RaftNode(new RaftConfig { Id = 1 }, ReplicationTests.StateWithLog([1, 1], commit: 1, term: 1), new SeededRandom(1));
        node.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 2, Commit = 2 });

        var ready = node.GetReady();

        Assert.Equal(new HardState(2, 0, 2), ready.HardState);
        Assert.False(ready.HardStateCommitOnly);
        Assert.True(ready.MustSync);
        node.Advance(ready);
    }

    [Fact]
    public void A_hand_built_ready_with_a_hard_state_is_synced_by_default()
    {
        Assert.True(new Ready { HardState = new HardState(1, 0, 5) }.MustSync);
    }
}
