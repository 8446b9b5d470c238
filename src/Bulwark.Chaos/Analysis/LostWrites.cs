using Bulwark.Verification;

namespace Bulwark.Chaos.Analysis;

/// <summary>An acknowledged write whose value is gone, with nothing in the history that could have overwritten it.</summary>
public sealed record LostWrite(long Id, string Key, string Value, string FinalValue);

/// <summary>
/// Acknowledged writes lost: after the run every key is read once more (linearizably). An acknowledged write of a value
/// other than that final one must have been overwritten by some other write of the key that could come after it (one
/// not finished before it was called, acknowledged or of unknown outcome, and not a compare-and-set known to have
/// failed); when there is none, the acknowledged write is lost. Independent of the linearizability checker, and cheap.
/// </summary>
public static class LostWrites
{
    public static IReadOnlyList<LostWrite> Find(IReadOnlyList<Operation<KvInput, KvOutput>> history, int finalClient)
    {
        ArgumentNullException.ThrowIfNull(history);
        var lost = new List<LostWrite>();
        var finals = history.Where(o => o.ClientId == finalClient && o.Input.Kind == KvOperationKind.Get && !o.IsUnknown)
            .GroupBy(o => o.Input.Key)
            .ToDictionary(g => g.Key, g => g.OrderBy(o => o.Call).Last());
        foreach (var (key, final) in finals)
        {
            var finalValue = final.Output!.Value;
            var writes = history.Where(o => o.Input.Key == key && o.Call < final.Call && MayHaveWritten(o)).ToList();
            foreach (var acked in writes.Where(o => !o.IsUnknown && o.Input.Value != finalValue))
            {
                var overwritten = writes.Any(other => other.Id != acked.Id && other.Return > acked.Call);
                if (!overwritten)
                {
                    lost.Add(new LostWrite(acked.Id, key, acked.Input.Value!, finalValue ?? "<absent>"));
                }
            }
        }

        return lost;
    }

    private static bool MayHaveWritten(Operation<KvInput, KvOutput> op) => op.Input.Kind switch
    {
        KvOperationKind.Put or KvOperationKind.Delete => true,
        KvOperationKind.CompareAndSet => op.IsUnknown || op.Output!.Succeeded,
        _ => false,
    };
}
