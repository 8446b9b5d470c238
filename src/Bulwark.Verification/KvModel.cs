namespace Bulwark.Verification;

public enum KvOperationKind
{
    Get = 0,
    Put = 1,

    /// <summary>Put <see cref="KvInput.Value"/> only if the current value equals <see cref="KvInput.Expected"/>
    /// (null = the key is absent). A single-key etcd Txn (compare value/version, then put) maps to this.</summary>
    CompareAndSet = 2,

    /// <summary>Remove the key (a single-key DeleteRange): it reads as absent afterwards.</summary>
    Delete = 3,
}

/// <summary>A call on one key of a key-value register. Values are strings; null means "absent".</summary>
public sealed record KvInput(KvOperationKind Kind, string Key, string? Value = null, string? Expected = null)
{
    public static KvInput Get(string key) => new(KvOperationKind.Get, key);

    public static KvInput Put(string key, string value) => new(KvOperationKind.Put, key, value);

    public static KvInput CompareAndSet(string key, string? expected, string value) => new(KvOperationKind.CompareAndSet, key, value, expected);

    public static KvInput Delete(string key) => new(KvOperationKind.Delete, key);

    public override string ToString() => Kind switch
    {
        KvOperationKind.Get => $"get({Key})",
        KvOperationKind.Put => $"put({Key}, {Value})",
        KvOperationKind.Delete => $"delete({Key})",
        _ => $"cas({Key}, {Expected ?? "<absent>"} -> {Value})",
    };
}

/// <summary>What a call returned: the value read (Get), or whether the compare held (CompareAndSet).</summary>
public sealed record KvOutput(string? Value, bool Succeeded)
{
    public static KvOutput Read(string? value) => new(value, true);

    public static KvOutput Written { get; } = new(null, true);

    public static KvOutput Swapped(bool succeeded) => new(null, succeeded);

    public override string ToString() => Value is not null ? $"'{Value}'" : Succeeded ? "ok" : "failed";
}

/// <summary>
/// A map of independent registers, partitioned per key (each partition's state is that key's value).
/// Get's output distinguishes "absent" (Read(null)) from a value.
/// </summary>
public sealed class KvModel : IModel<string?, KvInput, KvOutput>
{
    public static KvModel Instance { get; } = new();

    public IEqualityComparer<string?> StateComparer => StringComparer.Ordinal;

    public string? Init() => null;

    public bool Step(string? state, KvInput input, KvOutput? output, out string? next)
    {
        ArgumentNullException.ThrowIfNull(input);
        switch (input.Kind)
        {
            case KvOperationKind.Get:
                next = state;
                return output is null || string.Equals(output.Value, state, StringComparison.Ordinal);
            case KvOperationKind.Put:
                next = input.Value;
                return true;
            case KvOperationKind.Delete:
                next = null;
                return true;
            case KvOperationKind.CompareAndSet:
                var holds = string.Equals(state, input.Expected, StringComparison.Ordinal);
                next = holds ? input.Value : state;
                return output is null || output.Succeeded == holds;
            default:
                throw new ArgumentException($"unknown kv operation kind {input.Kind}", nameof(input));
        }
    }

    public IReadOnlyList<IReadOnlyList<Operation<KvInput, KvOutput>>> Partition(IReadOnlyList<Operation<KvInput, KvOutput>> history)
    {
        var byKey = new Dictionary<string, List<Operation<KvInput, KvOutput>>>(StringComparer.Ordinal);
        foreach (var op in history)
        {
            if (!byKey.TryGetValue(op.Input.Key, out var list))
            {
                byKey[op.Input.Key] = list = [];
            }

            list.Add(op);
        }

        return byKey.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (IReadOnlyList<Operation<KvInput, KvOutput>>)kv.Value).ToList();
    }

    public string DescribePartition(IReadOnlyList<Operation<KvInput, KvOutput>> part) =>
        part.Count == 0 ? "(empty)" : $"key '{part[0].Input.Key}'";
}
