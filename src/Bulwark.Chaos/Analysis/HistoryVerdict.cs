using System.Text;
using Bulwark.Verification;

namespace Bulwark.Chaos.Analysis;

/// <summary>The linearizability checker's answer on a run's history, with a short excerpt when it is not linearizable:
/// the key, the last operations the search could place and the ones none of which fits next.</summary>
public sealed record HistoryVerdict(string Verdict, long Steps, double CheckSeconds, string? Excerpt)
{
    public const string Linearizable = "linearizable";
    public const string NotLinearizable = "not linearizable";
    public const string Unknown = "unknown";

    /// <summary>How many of the last linearized operations the excerpt shows before the ones that do not fit.</summary>
    private const int Context = 8;

    public static HistoryVerdict Check(IReadOnlyList<Operation<KvInput, KvOutput>> history, TimeSpan budget)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var reduced = UnobservedWrites.SetAside(history, out var setAside);
        var result = LinearizabilityChecker.Check(KvModel.Instance, reduced, new CheckBudget { MaxTime = budget });
        var steps = result.Steps;
        if (result.Verdict == CheckVerdict.Illegal && setAside > 0)
        {
            // Without them the history has no linearization; one of them may still explain a failed compare-and-set.
            var left = budget - started.Elapsed;
            result = LinearizabilityChecker.Check(KvModel.Instance, history, new CheckBudget { MaxTime = left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1) });
            steps += result.Steps;
        }

        var seconds = started.Elapsed.TotalSeconds;
        return result.Verdict switch
        {
            CheckVerdict.Linearizable => new(Linearizable, steps, seconds, null) { SetAside = setAside },
            CheckVerdict.Unknown => new(Unknown, steps, seconds, $"the check ran out of its {budget.TotalSeconds:0} s budget after {steps} steps; no violation found so far") { SetAside = setAside },
            _ => new(NotLinearizable, steps, seconds, DescribeViolation(result.Violation!)) { SetAside = setAside },
        };
    }

    /// <summary>Writes of unknown outcome never observed, checked as taking effect last (see <see cref="UnobservedWrites"/>).</summary>
    public int SetAside { get; init; }

    private static string DescribeViolation(LinearizabilityViolation<KvInput, KvOutput> violation)
    {
        var text = new StringBuilder();
        text.Append(violation.Partition).Append(": ").Append(violation.Operations.Count).AppendLine(" operations, no linearization");
        var prefix = violation.LongestLinearizedPrefix;
        text.Append("  last of the longest linearizable prefix (").Append(prefix.Count).AppendLine(" operations):");
        foreach (var op in prefix.Skip(Math.Max(0, prefix.Count - Context)))
        {
            text.Append("    ").AppendLine(op.ToString());
        }

        text.AppendLine("  then none of these fits next:");
        foreach (var op in violation.NotLinearized.Take(3 * Context))
        {
            text.Append("    ").AppendLine(op.ToString());
        }

        if (violation.NotLinearized.Count > 3 * Context)
        {
            text.Append("    ... ").Append(violation.NotLinearized.Count - 3 * Context).AppendLine(" more");
        }

        return text.ToString();
    }
}
