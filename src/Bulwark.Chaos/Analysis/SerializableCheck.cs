using Bulwark.Chaos.Workload;
using Bulwark.Verification;

namespace Bulwark.Chaos.Analysis;

/// <summary>
/// Serializable reads may be stale, so they are not part of the linearizable history; what they must never do is
/// return a value nobody tried to write to that key. Returns those reads.
/// </summary>
public static class SerializableCheck
{
    public static IReadOnlyList<SerializableRead> NeverWritten(IReadOnlyList<SerializableRead> reads, IReadOnlyList<Operation<KvInput, KvOutput>> history)
    {
        ArgumentNullException.ThrowIfNull(reads);
        ArgumentNullException.ThrowIfNull(history);
        var written = history.Where(o => o.Input.Kind is KvOperationKind.Put or KvOperationKind.CompareAndSet)
            .Select(o => (o.Input.Key, o.Input.Value))
            .ToHashSet();
        return reads.Where(r => r.Value is not null && !written.Contains((r.Key, r.Value))).ToList();
    }
}
