namespace Bulwark.Verification;

/// <summary>
/// A sequential specification the checker tests histories against. States must be immutable values:
/// the checker keeps them on a stack and in a memo table, compared with <see cref="StateComparer"/>.
/// </summary>
public interface IModel<TState, TInput, TOutput>
    where TOutput : class
{
    /// <summary>The state before any operation (of one partition).</summary>
    TState Init();

    /// <summary>
    /// Whether <paramref name="input"/> applied to <paramref name="state"/> may produce <paramref name="output"/>,
    /// and the state after it. A null output means the outcome is unknown: the step must then succeed and give
    /// the state the operation would leave had it taken effect.
    /// </summary>
    bool Step(TState state, TInput input, TOutput? output, out TState next);

    /// <summary>
    /// Splits a history into independent parts checked separately (P-compositionality: a history is linearizable
    /// iff each part is). Return the history itself as one part when the model cannot be split.
    /// </summary>
    IReadOnlyList<IReadOnlyList<Operation<TInput, TOutput>>> Partition(IReadOnlyList<Operation<TInput, TOutput>> history);

    IEqualityComparer<TState> StateComparer { get; }

    /// <summary>A short name for a part, for explanations (e.g. the key).</summary>
    string DescribePartition(IReadOnlyList<Operation<TInput, TOutput>> part);
}
