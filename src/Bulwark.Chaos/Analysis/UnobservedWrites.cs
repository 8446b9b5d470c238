using Bulwark.Verification;

namespace Bulwark.Chaos.Analysis;

/// <summary>
/// Writes of unknown outcome whose value no operation ever observed (no read returned it, no compare-and-set expected
/// it). Each one fits at the very end of any linearization of the rest (its return is "never", so it may take effect
/// after everything else, where nobody sees it), so if the history without them is linearizable, so is the whole
/// history. They are what makes the search explode (every one may or may not have happened at every point), and a
/// timed-out put of a unique value is usually never read. The converse does not hold (such a write could explain a
/// compare-and-set that failed), so a violation found without them is checked again on the whole history.
/// </summary>
public static class UnobservedWrites
{
    public static IReadOnlyList<Operation<KvInput, KvOutput>> SetAside(IReadOnlyList<Operation<KvInput, KvOutput>> history, out int setAside)
    {
        ArgumentNullException.ThrowIfNull(history);
        var observed = new HashSet<(string Key, string Value)>();
        foreach (var op in history)
        {
            if (op.Input.Kind == KvOperationKind.Get && op.Output?.Value is { } read)
            {
                observed.Add((op.Input.Key, read));
            }
            else if (op.Input.Kind == KvOperationKind.CompareAndSet && op.Input.Expected is { } expected)
            {
                observed.Add((op.Input.Key, expected));
            }
        }

        var kept = history.Where(op => !(op.IsUnknown
            && op.Input.Kind is KvOperationKind.Put or KvOperationKind.CompareAndSet
            && op.Input.Value is { } value
            && !observed.Contains((op.Input.Key, value)))).ToList();
        setAside = history.Count - kept.Count;
        return kept;
    }
}
