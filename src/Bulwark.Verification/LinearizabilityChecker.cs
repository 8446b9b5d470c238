namespace Bulwark.Verification;

/// <summary>
/// Decides whether a concurrent history is linearizable with respect to a sequential model.
/// <para>
/// The search is Wing and Gong's, with Lowe's just-in-time linearization: walk the history's call and return
/// events in time order; at a call, try to linearize that operation now (the model accepts its output), remove
/// it from the list and restart from the first event; at a return whose operation is not yet linearized, undo
/// the most recent choice (backtrack). A memo of (set of linearized operations, model state) prunes every
/// configuration already explored. Histories are first split into independent partitions (per key for a
/// key-value store), each checked alone, which turns one exponential search into several small ones — the
/// approach of the Porcupine checker.
/// </para>
/// <para>
/// An operation with unknown outcome returns "never": it may be linearized anywhere after its call, including
/// after every other operation, where its effect no longer matters.
/// </para>
/// </summary>
public static class LinearizabilityChecker
{
    public static CheckResult<TInput, TOutput> Check<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        CheckBudget? budget = null)
        where TOutput : class
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(history);
        foreach (var op in history)
        {
            if (op.Return < op.Call)
            {
                throw new ArgumentException($"operation {op.Id} returns at {op.Return}, before its call at {op.Call}", nameof(history));
            }
        }

        var meter = new BudgetMeter(budget ?? CheckBudget.Unlimited);
        var parts = model.Partition(history);
        foreach (var part in parts)
        {
            if (part.Count == 0)
            {
                continue;
            }

            var search = new PartitionSearch<TState, TInput, TOutput>(model, part, meter);
            var verdict = search.Run();
            if (verdict == CheckVerdict.Illegal)
            {
                return new(CheckVerdict.Illegal, parts.Count, meter.Steps, search.Explain());
            }

            if (verdict == CheckVerdict.Unknown)
            {
                return new(CheckVerdict.Unknown, parts.Count, meter.Steps, null);
            }
        }

        return new(CheckVerdict.Linearizable, parts.Count, meter.Steps, null);
    }
}
