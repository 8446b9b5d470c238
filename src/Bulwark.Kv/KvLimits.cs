namespace Bulwark.Kv;

/// <summary>
/// Configurable request limits, checked when a request is accepted (before it is proposed to
/// Raft). They are deliberately not checked when a committed command is applied: members may
/// be configured differently, and applying must give the same result on every member.
/// </summary>
public sealed record KvLimits
{
    /// <summary>etcd's default --max-request-bytes: 1.5 MiB.</summary>
    public const int DefaultMaxRequestBytes = 1536 * 1024;

    /// <summary>etcd's default --max-txn-ops.</summary>
    public const int DefaultMaxTxnOps = 128;

    public static KvLimits Default { get; } = new();

    /// <summary>Largest encoded request accepted, in bytes.</summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Most compares, or success operations, or failure operations, in one txn.</summary>
    public int MaxTxnOps { get; init; } = DefaultMaxTxnOps;

    /// <summary>Throws when a limit is not positive.</summary>
    public void EnsureValid()
    {
        if (MaxRequestBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBytes), MaxRequestBytes, "The request size limit must be positive.");
        }

        if (MaxTxnOps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTxnOps), MaxTxnOps, "The txn operation limit must be positive.");
        }
    }
}
