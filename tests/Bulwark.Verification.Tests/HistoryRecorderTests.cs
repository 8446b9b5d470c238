using Bulwark.Verification;

namespace Bulwark.Verification.Tests;

public sealed class HistoryRecorderTests
{
    [Fact]
    public void RecordsCallsReturnsDiscardsAndUnknowns()
    {
        var recorder = new HistoryRecorder<KvInput, KvOutput>();
        var put = recorder.Invoke(1, KvInput.Put("x", "a"));
        var get = recorder.Invoke(2, KvInput.Get("x"));
        var refused = recorder.Invoke(3, KvInput.Put("x", "z"));
        var lost = recorder.Invoke(3, KvInput.Put("x", "b"));
        recorder.Complete(put, KvOutput.Written);
        recorder.Complete(get, KvOutput.Read("a"));
        recorder.Discard(refused);
        var pending = recorder.Invoke(4, KvInput.Put("y", "c"));
        recorder.GiveUp(lost);

        var history = recorder.Build();
        Assert.Equal(4, history.Count);
        Assert.DoesNotContain(history, op => op.Id == refused);
        Assert.True(history.Single(op => op.Id == lost).IsUnknown);
        Assert.True(history.Single(op => op.Id == pending).IsUnknown);
        var p = history.Single(op => op.Id == put);
        var g = history.Single(op => op.Id == get);
        Assert.True(p.Call < g.Call && g.Call < p.Return && p.Return < g.Return);
        Assert.True(LinearizabilityChecker.Check(KvModel.Instance, history).IsLinearizable);
    }

    [Fact]
    public void CompletingAnUnknownOperationIsAnError()
    {
        var recorder = new HistoryRecorder<KvInput, KvOutput>();
        var error = Assert.Throws<InvalidOperationException>(() => recorder.Complete(42, KvOutput.Written));
        Assert.Contains("42", error.Message, StringComparison.Ordinal);
    }
}
