using System.Collections.Immutable;
using Bulwark.Consensus.Tracking;

namespace Bulwark.Consensus.Tests;

/// <summary>
/// The tracker's quorum values (commit index from match indexes, ReadIndex confirmation from read acks): only
/// voters count, and this node counts with the value it passes rather than its own progress entry.
/// </summary>
public sealed class ProgressTrackerQuorumTests
{
    /// <summary>Voters 1..5 (this node is 1; 5 has acknowledged nothing), learner 6 far ahead.</summary>
    private static ProgressTracker Tracker()
    {
        var config = new ClusterConfig(ImmutableSortedSet.Create<ulong>(1, 2, 3, 4, 5), ImmutableSortedSet.Create<ulong>(6), []);
        var tracker = new ProgressTracker(config, maxInflight: 16);
        tracker.ResetAll(config, lastIndex: 0);
        foreach (var (id, value) in new (ulong Id, ulong Value)[] { (1, 50), (2, 7), (3, 4), (4, 2), (6, 100) })
        {
            tracker.Get(id)!.MaybeUpdate(value);
            tracker.Get(id)!.ReadAck = value;
        }

        return tracker;
    }

    [Theory]
    [InlineData(9UL, 4UL)] // 9 (self), 7, 4, 2, 0: the third largest is 4; learner 6's 100 does not count
    [InlineData(1UL, 2UL)] // 7, 4, 2, 1, 0: self's own entry (50) does not count either
    [InlineData(0UL, 2UL)]
    public void CommittedIndexAndReadAckAreTheValueAMajorityOfVotersReached(ulong self, ulong expected)
    {
        var tracker = Tracker();

        Assert.Equal(expected, tracker.CommittedIndex(1, self));
        Assert.Equal(expected, tracker.QuorumReadAck(1, self));
    }
}
