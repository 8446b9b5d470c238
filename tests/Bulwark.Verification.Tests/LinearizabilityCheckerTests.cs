using Bulwark.Verification;

namespace Bulwark.Verification.Tests;

public sealed class LinearizabilityCheckerTests
{
    [Fact]
    public void EmptyHistoryIsLinearizable()
    {
        Assert.Equal(CheckVerdict.Linearizable, new KvHistoryBuilder().Check().Verdict);
    }

    [Fact]
    public void SequentialReadOfLastWriteIsLinearizable()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Get(2, "x", "a", 2, 3)
            .Put(1, "x", "b", 4, 5)
            .Get(2, "x", "b", 6, 7)
            .Check();
        Assert.Equal(CheckVerdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void StaleReadAfterCompletedWriteIsIllegal()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Put(1, "x", "b", 2, 3)
            .Get(2, "x", "a", 4, 5)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
        Assert.NotNull(result.Violation);
        Assert.Equal("key 'x'", result.Violation!.Partition);
        Assert.Contains(result.Violation.NotLinearized, op => op.Input.Kind == KvOperationKind.Get && op.Output!.Value == "a");
    }

    [Fact]
    public void ReadOfNeverWrittenValueIsIllegal()
    {
        var result = new KvHistoryBuilder().Get(1, "x", "ghost", 0, 1).Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void ReadOfAbsentKeyIsLinearizable()
    {
        Assert.True(new KvHistoryBuilder().Get(1, "x", null, 0, 1).Check().IsLinearizable);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("a")]
    public void ReadConcurrentWithWriteMaySeeEitherValue(string? seen)
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 10)
            .Get(2, "x", seen, 2, 5)
            .Check();
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Fact]
    public void ConcurrentReadsMustAgreeOnOneOrderOfConcurrentWrites()
    {
        // Writes a and b overlap; reader 3 sees a then b, reader 4 sees b then a, all after both writes finished.
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 10)
            .Put(2, "x", "b", 0, 10)
            .Get(3, "x", "a", 11, 12)
            .Get(3, "x", "b", 13, 14)
            .Get(4, "x", "b", 11, 12)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void OverlappingReadsMayStraddleTheWritesLinearizationPoint()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Put(2, "x", "b", 2, 20)
            .Get(3, "x", "b", 3, 5)
            .Get(4, "x", "a", 4, 6)
            .Check();
        // Reader 4 overlaps reader 3 and may be ordered before the put of b: linearizable.
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Fact]
    public void ReadsMayNotGoBackwardsOnceOrdered()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Put(2, "x", "b", 2, 20)
            .Get(3, "x", "b", 3, 5)
            .Get(4, "x", "a", 6, 7)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void CompareAndSetSucceedsOnlyOnMatchingValue()
    {
        Assert.True(new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Cas(1, "x", "a", "b", true, 2, 3)
            .Cas(1, "x", "a", "c", false, 4, 5)
            .Get(2, "x", "b", 6, 7)
            .Check().IsLinearizable);

        Assert.Equal(CheckVerdict.Illegal, new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Cas(1, "x", "z", "b", true, 2, 3)
            .Check().Verdict);
    }

    [Fact]
    public void ADeletedKeyReadsAsAbsentUntilWrittenAgain()
    {
        Assert.True(new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Delete(1, "x", 2, 3)
            .Get(2, "x", null, 4, 5)
            .Cas(2, "x", null, "b", true, 6, 7)
            .Get(1, "x", "b", 8, 9)
            .Check().IsLinearizable);

        // A read after the delete completed cannot see the old value.
        Assert.Equal(CheckVerdict.Illegal, new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Delete(1, "x", 2, 3)
            .Get(2, "x", "a", 4, 5)
            .Check().Verdict);
    }

    [Fact]
    public void CompareAndSetOnAbsentKeyCreatesIt()
    {
        Assert.True(new KvHistoryBuilder()
            .Cas(1, "x", null, "a", true, 0, 1)
            .Get(2, "x", "a", 2, 3)
            .Check().IsLinearizable);
    }

    [Fact]
    public void TwoConcurrentSwapsFromTheSameValueCannotBothSucceed()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Cas(2, "x", "a", "b", true, 2, 10)
            .Cas(3, "x", "a", "c", true, 3, 9)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void UnknownWriteMayTakeEffectLongAfterItsCall()
    {
        var result = new KvHistoryBuilder()
            .UnknownPut(1, "x", "a", 0)
            .Get(2, "x", null, 10, 11)
            .Get(2, "x", "a", 50, 51)
            .Check();
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Fact]
    public void UnknownWriteMayNeverTakeEffect()
    {
        var result = new KvHistoryBuilder()
            .Put(2, "x", "b", 0, 1)
            .UnknownPut(1, "x", "a", 2)
            .Get(2, "x", "b", 10, 11)
            .Get(2, "x", "b", 50, 51)
            .Check();
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Fact]
    public void UnknownWriteTakesEffectAtMostOnce()
    {
        var result = new KvHistoryBuilder()
            .UnknownPut(1, "x", "a", 0)
            .Get(2, "x", "a", 10, 11)
            .Put(3, "x", "b", 12, 13)
            .Get(2, "x", "a", 14, 15)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void UnknownWriteCannotTakeEffectBeforeItsCall()
    {
        var result = new KvHistoryBuilder()
            .Get(2, "x", "a", 0, 1)
            .UnknownPut(1, "x", "a", 5)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
    }

    [Fact]
    public void UnknownCompareAndSetIsJudgedByTheValueItMeets()
    {
        Assert.True(new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .UnknownCas(2, "x", "a", "b", 2)
            .Get(3, "x", "b", 10, 11)
            .Check().IsLinearizable);

        // The swap expects "z", which x never holds, so it can never produce "b".
        Assert.Equal(CheckVerdict.Illegal, new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .UnknownCas(2, "x", "z", "b", 2)
            .Get(3, "x", "b", 10, 11)
            .Check().Verdict);
    }

    [Fact]
    public void KeysArePartitionedAndTheViolationNamesTheBadKey()
    {
        var result = new KvHistoryBuilder()
            .Put(1, "x", "a", 0, 1)
            .Get(1, "x", "a", 2, 3)
            .Put(1, "y", "a", 4, 5)
            .Get(2, "y", null, 6, 7)
            .Check();
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
        Assert.Equal(2, result.Partitions);
        Assert.Equal("key 'y'", result.Violation!.Partition);
        Assert.All(result.Violation.Operations, op => Assert.Equal("y", op.Input.Key));
        Assert.Contains("no linearization", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExhaustedStepBudgetGivesUnknown()
    {
        var builder = new KvHistoryBuilder();
        for (var i = 0; i < 20; i++)
        {
            builder.Put(i, "x", $"v{i}", 0, 100);
        }

        builder.Get(99, "x", "v7", 101, 102);
        var result = builder.Check(new CheckBudget { MaxSteps = 5 });
        Assert.Equal(CheckVerdict.Unknown, result.Verdict);
        Assert.True(builder.Check().IsLinearizable);
    }

    [Fact]
    public void ManyConcurrentWritesWithAnImpossibleReadAreRejectedThanksToMemoization()
    {
        // 14 overlapping writes give 14! orders; the memo collapses them to 2^14 sets of linearized writes.
        var builder = new KvHistoryBuilder();
        for (var i = 0; i < 14; i++)
        {
            builder.Put(i, "x", $"v{i}", 0, 100);
        }

        builder.Get(99, "x", "never", 101, 102);
        Assert.Equal(CheckVerdict.Illegal, builder.Check().Verdict);
    }

    [Fact]
    public void ReturnBeforeCallIsRejectedWithAClearMessage()
    {
        var bad = new Operation<KvInput, KvOutput>(1, 1, KvInput.Get("x"), KvOutput.Read(null), 10, 5);
        var error = Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(KvModel.Instance, [bad]));
        Assert.Contains("before its call", error.Message, StringComparison.Ordinal);
    }
}
