using Bulwark.Consensus.Quorum;
using Bulwark.Consensus.Tracking;

namespace Bulwark.Consensus.Tests;

public sealed class QuorumTests
{
    [Theory]
    [InlineData(new ulong[] { }, 0UL)]
    [InlineData(new ulong[] { 5 }, 5UL)]
    [InlineData(new ulong[] { 5, 3 }, 3UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, 2UL)]
    [InlineData(new ulong[] { 9, 9, 1 }, 9UL)]
    [InlineData(new ulong[] { 4, 1, 2, 8 }, 2UL)]
    [InlineData(new ulong[] { 5, 4, 3, 2, 1 }, 3UL)]
    [InlineData(new ulong[] { 0, 0, 0, 7, 7 }, 0UL)]
    public void QuorumValueIsTheLargestValueAMajorityReached(ulong[] acknowledged, ulong expected) =>
        Assert.Equal(expected, MajorityConfig.QuorumValue(acknowledged.ToArray()));

    [Theory]
    [InlineData(1, 1, 0, "Won")]
    [InlineData(1, 0, 1, "Lost")]
    [InlineData(3, 1, 0, "Pending")]
    [InlineData(3, 2, 0, "Won")]
    [InlineData(3, 1, 1, "Pending")]
    [InlineData(3, 1, 2, "Lost")]
    [InlineData(4, 2, 1, "Pending")]
    [InlineData(4, 2, 2, "Lost")]
    [InlineData(4, 3, 1, "Won")]
    [InlineData(5, 2, 2, "Pending")]
    [InlineData(5, 2, 3, "Lost")]
    [InlineData(0, 0, 0, "Lost")]
    public void TallyDecidesOnlyWhenTheOutcomeIsCertain(int voters, int granted, int rejected, string expected) =>
        Assert.Equal(expected, MajorityConfig.Tally(voters, granted, rejected).ToString());

    [Fact]
    public void InflightsFreeUpToAnIndexAndRefuseOverflow()
    {
        var inflights = new Inflights(3);
        inflights.Add(5);
        inflights.Add(7);
        inflights.Add(9);
        Assert.True(inflights.Full);
        Assert.Throws<RaftInvariantException>(() => inflights.Add(11));
        inflights.FreeLE(7);
        Assert.Equal(1, inflights.Count);
        inflights.Add(11);
        inflights.Add(12);
        Assert.True(inflights.Full);
        inflights.FreeFirstOne();
        Assert.Equal(2, inflights.Count);
        inflights.FreeLE(100);
        Assert.Equal(0, inflights.Count);
        Assert.Throws<RaftInvariantException>(() => { inflights.Add(3); inflights.Add(2); });
    }

    [Theory]
    // state, match, next, rejected, hint -> accepted, new next
    [InlineData(ProgressState.Probe, 0UL, 10UL, 9UL, 4UL, true, 5UL)]
    [InlineData(ProgressState.Probe, 0UL, 10UL, 8UL, 4UL, false, 10UL)] // stale: not the probe we sent
    [InlineData(ProgressState.Probe, 3UL, 10UL, 9UL, 1UL, true, 4UL)] // never below match + 1
    [InlineData(ProgressState.Probe, 0UL, 10UL, 9UL, 20UL, true, 9UL)] // hint beyond the rejected index
    [InlineData(ProgressState.Replicate, 5UL, 12UL, 5UL, 0UL, false, 12UL)] // stale: at or below match
    [InlineData(ProgressState.Replicate, 5UL, 12UL, 8UL, 0UL, true, 6UL)] // back to match + 1
    public void ProgressBacksOffOnRejection(
        ProgressState state, ulong match, ulong next, ulong rejected, ulong hint, bool accepted, ulong expectedNext)
    {
        var progress = new Progress(2, next, 16, false);
        if (match > 0)
        {
            progress.MaybeUpdate(match);
        }

        if (state == ProgressState.Replicate)
        {
            progress.BecomeReplicate();
            for (var i = match + 1; i < next; i++)
            {
                progress.SentEntries(i, 1);
            }
        }

        Assert.Equal(next, progress.Next);
        Assert.Equal(accepted, progress.MaybeDecreaseTo(rejected, hint));
        Assert.Equal(expectedNext, progress.Next);
    }

    [Fact]
    public void ProgressPausesByState()
    {
        var progress = new Progress(2, 1, 2, false);
        Assert.False(progress.IsPaused);
        progress.SentEntries(1, 1);
        Assert.True(progress.IsPaused); // probe: one at a time
        progress.MaybeUpdate(1);
        progress.BecomeReplicate();
        progress.SentEntries(2, 1);
        Assert.False(progress.IsPaused);
        progress.SentEntries(3, 1);
        Assert.True(progress.IsPaused); // replicate: in-flight window full
        progress.BecomeSnapshot(10);
        Assert.True(progress.IsPaused);
        progress.BecomeProbe();
        Assert.Equal(11UL, progress.Next);
    }
}
