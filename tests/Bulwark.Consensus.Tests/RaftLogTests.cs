using System.Collections.Immutable;
using Bulwark.Consensus.Log;

namespace Bulwark.Consensus.Tests;

public sealed class RaftLogTests
{
    private static readonly ClusterConfig Three = ClusterConfig.Of(1, 2, 3);

    /// <summary>A log of entries with the given terms at indexes 1.., all durable.</summary>
    internal static RaftLog LogOf(params ulong[] terms) =>
        new(new SnapshotMetadata(0, 0, Three), Entries(1, terms), 0, 0);

    internal static ImmutableArray<Entry> Entries(ulong firstIndex, params ulong[] terms) =>
        [.. terms.Select((t, i) => new Entry(t, firstIndex + (ulong)i, EntryType.Normal, new byte[] { (byte)i }))];

    [Theory]
    // existing terms, incoming first index, incoming terms, expected conflict
    [InlineData(new ulong[] { 1, 2, 3 }, 1UL, new ulong[] { 1, 2, 3 }, 0UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 2UL, new ulong[] { 2, 3 }, 0UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 2UL, new ulong[] { 2, 3, 4 }, 4UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 4UL, new ulong[] { 4, 4 }, 4UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 1UL, new ulong[] { 4, 4 }, 1UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 2UL, new ulong[] { 1, 4, 4 }, 2UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 3UL, new ulong[] { 4, 4, 4 }, 3UL)]
    public void FindConflict(ulong[] existing, ulong first, ulong[] incoming, ulong expected) =>
        Assert.Equal(expected, LogOf(existing).FindConflict(Entries(first, incoming).AsSpan()));

    [Theory]
    // log terms, probe index, probe term -> hint index, hint term
    [InlineData(new ulong[] { 1, 1, 2, 2, 2 }, 5UL, 2UL, 5UL, 2UL)]
    [InlineData(new ulong[] { 1, 1, 2, 2, 2 }, 5UL, 1UL, 2UL, 1UL)] // skip the whole term-2 run at once
    [InlineData(new ulong[] { 1, 1, 4, 4, 4 }, 5UL, 3UL, 2UL, 1UL)]
    [InlineData(new ulong[] { 2, 2, 2 }, 3UL, 1UL, 0UL, 0UL)]
    [InlineData(new ulong[] { 1, 2 }, 9UL, 5UL, 2UL, 2UL)] // beyond our end: clamp to the last index
    [InlineData(new ulong[] { }, 3UL, 1UL, 0UL, 0UL)]
    public void FindConflictByTermSkipsWholeTerms(ulong[] terms, ulong index, ulong term, ulong hintIndex, ulong hintTerm)
    {
        var (i, t) = LogOf(terms).FindConflictByTerm(index, term);
        Assert.Equal((hintIndex, hintTerm), (i, t));
    }

    [Theory]
    // log terms, prev index, prev term, commit, incoming terms -> result last (null = reject), last index after, commit after
    [InlineData(new ulong[] { 1, 2, 3 }, 3UL, 3UL, 3UL, new ulong[] { 4 }, 4L, 4UL, 3UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 3UL, 2UL, 3UL, new ulong[] { 4 }, -1L, 3UL, 0UL)] // term mismatch
    [InlineData(new ulong[] { 1, 2, 3 }, 4UL, 3UL, 3UL, new ulong[] { 4 }, -1L, 3UL, 0UL)] // gap
    [InlineData(new ulong[] { 1, 2, 3 }, 1UL, 1UL, 9UL, new ulong[] { 2 }, 2L, 3UL, 2UL)] // duplicate prefix keeps suffix
    [InlineData(new ulong[] { 1, 2, 3 }, 1UL, 1UL, 2UL, new ulong[] { 4 }, 2L, 2UL, 2UL)] // conflict truncates suffix
    [InlineData(new ulong[] { 1, 1 }, 0UL, 0UL, 0UL, new ulong[] { 1, 1, 2 }, 3L, 3UL, 0UL)]
    public void MaybeAppend(ulong[] terms, ulong prevIndex, ulong prevTerm, ulong commit, ulong[] incoming,
        long expectedLast, ulong lastIndex, ulong committed)
    {
        var log = LogOf(terms);
        var result = log.MaybeAppend(prevIndex, prevTerm, commit, Entries(prevIndex + 1, incoming));
        Assert.Equal(expectedLast < 0 ? null : (ulong?)expectedLast, result);
        Assert.Equal(lastIndex, log.LastIndex);
        Assert.Equal(committed, log.Committed);
    }

    [Fact]
    public void NeverTruncatesACommittedEntry()
    {
        var log = LogOf(1, 1, 2);
        log.CommitTo(2);
        var ex = Assert.Throws<RaftInvariantException>(() => log.MaybeAppend(1, 1, 3, Entries(2, 3)));
        Assert.Contains("committed", ex.Message);
    }

    [Fact]
    public void NeverCommitsBeyondTheLastIndex() =>
        Assert.Throws<RaftInvariantException>(() => LogOf(1, 1).CommitTo(3));

    [Fact]
    public void TermsNeverDecrease()
    {
        var log = LogOf(1, 3);
        var ex = Assert.Throws<RaftInvariantException>(() => log.Append(Entries(3, 2).AsSpan()));
        Assert.Contains("term would decrease", ex.Message);
    }

    [Fact]
    public void RecoveryRejectsGapsAndBadCommit()
    {
        Assert.Throws<ArgumentException>(() =>
            new RaftLog(new SnapshotMetadata(0, 0, Three), Entries(2, 1), 0, 0));
        Assert.Throws<ArgumentException>(() =>
            new RaftLog(new SnapshotMetadata(0, 0, Three), Entries(1, 1), 5, 0));
        Assert.Throws<ArgumentException>(() =>
            new RaftLog(new SnapshotMetadata(0, 0, Three), Entries(1, 1, 1), 1, 2));
    }

    [Fact]
    public void CompactionKeepsTermAndConfigurationOfTheCompactionPoint()
    {
        var add4 = new Entry(2, 3, EntryType.ConfigChange, new ConfigChange(ConfigChangeType.AddVoter, 4).Encode());
        var log = new RaftLog(new SnapshotMetadata(0, 0, Three),
            [new Entry(1, 1, EntryType.Normal, default), new Entry(2, 2, EntryType.Normal, default), add4,
             new Entry(2, 4, EntryType.Normal, default)], 4, 4);
        Assert.Equal([1UL, 2, 3, 4], log.Config.Voters);

        log.Compact(2);
        Assert.Equal(new SnapshotMetadata(2, 2, Three), log.SnapshotMetadata);
        Assert.False(log.TryTerm(1, out _));
        Assert.True(log.MatchTerm(2, 2));

        log.Compact(3);
        Assert.Equal(3UL, log.SnapshotMetadata.Index);
        Assert.Equal([1UL, 2, 3, 4], log.SnapshotMetadata.Config.Voters);
        Assert.Equal(4UL, log.LastIndex);
        Assert.Equal(4UL, log.FirstIndex);

        Assert.Throws<ArgumentOutOfRangeException>(() => log.Compact(5));
    }

    [Fact]
    public void TruncationRevertsAConfigurationChange()
    {
        var log = LogOf(1);
        log.Append([new Entry(1, 2, EntryType.ConfigChange, new ConfigChange(ConfigChangeType.RemoveVoter, 3).Encode())]);
        Assert.Equal([1UL, 2], log.Config.Voters);
        log.Append([new Entry(2, 2, EntryType.Normal, default)]);
        Assert.Equal([1UL, 2, 3], log.Config.Voters);
    }

    [Fact]
    public void SliceHonoursTheByteLimitButSendsAtLeastOne()
    {
        var log = new RaftLog(new SnapshotMetadata(0, 0, Three),
            [.. Enumerable.Range(1, 10).Select(i => new Entry(1, (ulong)i, EntryType.Normal, new byte[76]))], 0, 0);
        Assert.Single(log.Slice(1, 10, 50)); // one entry is 100 bytes: still sent
        Assert.Equal(3, log.Slice(1, 10, 300).Length);
        Assert.Equal(10, log.Slice(1, 10, long.MaxValue).Length);
        Assert.Equal(2, log.Slice(9, 10, long.MaxValue).Length);
    }
}
