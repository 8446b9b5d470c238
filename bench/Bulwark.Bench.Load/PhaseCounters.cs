using System.Collections.Concurrent;

namespace Bulwark.Bench.Load;

/// <summary>Shared counters of one phase: the op budget, successes, and errors by kind.</summary>
internal sealed class PhaseCounters(long? budget)
{
    private readonly ConcurrentDictionary<string, long> errors = new(StringComparer.Ordinal);
    private long taken;
    private long succeeded;

    public long Ops => Interlocked.Read(ref succeeded);

    public IReadOnlyDictionary<string, long> Errors => errors;

    public long ErrorCount => errors.Values.Sum();

    /// <summary>Claims one operation from the budget; false when it is spent.</summary>
    public bool TakeOne() => budget is not { } b || Interlocked.Increment(ref taken) <= b;

    public void Succeeded() => Interlocked.Increment(ref succeeded);

    public void Failed(string kind) => errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
}
