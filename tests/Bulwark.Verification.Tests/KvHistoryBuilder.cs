using Bulwark.Verification;

namespace Bulwark.Verification.Tests;

/// <summary>Builds KV histories with explicit times for tests.</summary>
internal sealed class KvHistoryBuilder
{
    private readonly List<Operation<KvInput, KvOutput>> ops = [];

    public KvHistoryBuilder Get(int client, string key, string? read, long call, long ret) =>
        Add(client, KvInput.Get(key), KvOutput.Read(read), call, ret);

    public KvHistoryBuilder Put(int client, string key, string value, long call, long ret) =>
        Add(client, KvInput.Put(key, value), KvOutput.Written, call, ret);

    public KvHistoryBuilder Cas(int client, string key, string? expected, string value, bool succeeded, long call, long ret) =>
        Add(client, KvInput.CompareAndSet(key, expected, value), KvOutput.Swapped(succeeded), call, ret);

    public KvHistoryBuilder Delete(int client, string key, long call, long ret) =>
        Add(client, KvInput.Delete(key), KvOutput.Written, call, ret);

    public KvHistoryBuilder UnknownPut(int client, string key, string value, long call)
    {
        ops.Add(Operation<KvInput, KvOutput>.Unknown(ops.Count + 1, client, KvInput.Put(key, value), call));
        return this;
    }

    public KvHistoryBuilder UnknownCas(int client, string key, string? expected, string value, long call)
    {
        ops.Add(Operation<KvInput, KvOutput>.Unknown(ops.Count + 1, client, KvInput.CompareAndSet(key, expected, value), call));
        return this;
    }

    public IReadOnlyList<Operation<KvInput, KvOutput>> Build() => ops;

    public CheckResult<KvInput, KvOutput> Check(CheckBudget? budget = null) => LinearizabilityChecker.Check(KvModel.Instance, ops, budget);

    private KvHistoryBuilder Add(int client, KvInput input, KvOutput output, long call, long ret)
    {
        ops.Add(Operation<KvInput, KvOutput>.Completed(ops.Count + 1, client, input, output, call, ret));
        return this;
    }
}
