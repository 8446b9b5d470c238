using System.Text;

namespace Bulwark.Verification;

/// <summary>
/// Why a partition has no linearization: the operations of that partition, the longest prefix of them the
/// search managed to linearize, and the operations still pending at that point (one of which cannot be placed).
/// </summary>
public sealed record LinearizabilityViolation<TInput, TOutput>(
    string Partition,
    IReadOnlyList<Operation<TInput, TOutput>> Operations,
    IReadOnlyList<Operation<TInput, TOutput>> LongestLinearizedPrefix,
    IReadOnlyList<Operation<TInput, TOutput>> NotLinearized)
    where TOutput : class
{
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("partition ").Append(Partition).Append(" (").Append(Operations.Count).AppendLine(" operations) has no linearization");
        text.AppendLine("  longest linearizable prefix:");
        foreach (var op in LongestLinearizedPrefix)
        {
            text.Append("    ").AppendLine(op.ToString());
        }

        text.AppendLine("  then none of these fits next:");
        foreach (var op in NotLinearized)
        {
            text.Append("    ").AppendLine(op.ToString());
        }

        return text.ToString();
    }
}

public sealed record CheckResult<TInput, TOutput>(
    CheckVerdict Verdict,
    int Partitions,
    long Steps,
    LinearizabilityViolation<TInput, TOutput>? Violation)
    where TOutput : class
{
    public bool IsLinearizable => Verdict == CheckVerdict.Linearizable;

    public override string ToString() =>
        Verdict switch
        {
            CheckVerdict.Linearizable => $"linearizable ({Partitions} partitions, {Steps} steps)",
            CheckVerdict.Unknown => $"unknown: budget exhausted after {Steps} steps ({Partitions} partitions)",
            _ => $"NOT linearizable: {Violation}",
        };
}
