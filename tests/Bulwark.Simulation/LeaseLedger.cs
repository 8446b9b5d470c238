using Bulwark.Kv;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Simulation;

/// <summary>
/// What clients were promised about their leases, checked against what the cluster did:
/// <list type="bullet">
/// <item>no lease is revoked before a keep-alive's promise runs out: a keep-alive sent at time t and answered with
/// TTL s guarantees the lease outlives t + s (the client's own safe reading of the answer, as etcd's clients
/// count), scaled by the fastest node clock (a lease keeper counts in its own ticks, and a clock running fast by a
/// factor f shortens every deadline by f: etcd has the same dependence on bounded drift);</item>
/// <item>a revocation deletes every key of the lease in the revision that revoked it, on every node;</item>
/// <item>no read at or after that revision sees a key of the lease, and no read after an acknowledged put with the
/// lease and before its revocation misses the key.</item>
/// </list>
/// </summary>
public sealed class LeaseLedger(SafetyMonitor monitor, Func<long> now)
{
    private readonly Dictionary<long, Lease> leases = [];
    private double fastestClock = 1.0;

    /// <summary>Revocations applied (first node to apply each), by lease expiry and by clients.</summary>
    public int Expired { get; private set; }

    public int KeepAlivesPromised { get; private set; }

    public int ReadsChecked { get; private set; }

    /// <summary>A node's clock ticks every <paramref name="tickInterval"/> virtual µs for a nominal <paramref name="nominalTick"/>.</summary>
    public void NoteClock(long tickInterval, long nominalTick) =>
        fastestClock = Math.Max(fastestClock, (double)nominalTick / tickInterval);

    /// <summary>The key a lease's client attaches to it.</summary>
    public static string KeyOf(long leaseId) => $"lease{leaseId}";

    /// <summary>A grant or keep-alive sent at <paramref name="sentAt"/> was answered with <paramref name="ttlSeconds"/>.</summary>
    public void Promised(long leaseId, long sentAt, long ttlSeconds)
    {
        var lease = Get(leaseId);
        var until = sentAt + (long)(ttlSeconds * 1_000_000 / fastestClock);
        lease.PromisedUntil = Math.Max(lease.PromisedUntil, until);
        KeepAlivesPromised++;
        CheckPromise(leaseId, lease);
    }

    /// <summary>A put of the lease's key with the lease was acknowledged at <paramref name="revision"/>.</summary>
    public void Attached(long leaseId, long revision)
    {
        var lease = Get(leaseId);
        lease.AttachedAt = lease.AttachedAt is { } earlier ? Math.Min(earlier, revision) : revision;
    }

    /// <summary>A linearizable read of the lease's key answered at <paramref name="revision"/>.</summary>
    public void Read(long leaseId, bool present, long revision)
    {
        var lease = Get(leaseId);
        ReadsChecked++;
        if (present && lease.RevokedRevision is { } revoked && revision >= revoked)
        {
            monitor.Fail($"lease safety: a read at revision {revision} saw {KeyOf(leaseId)}, but its lease {leaseId} was revoked at revision {revoked}");
        }

        if (!present && lease.AttachedAt is { } attached && revision >= attached && (lease.RevokedRevision is not { } gone || revision < gone))
        {
            monitor.Fail($"lease safety: a read at revision {revision} missed {KeyOf(leaseId)}, put with lease {leaseId} at revision {attached} and not revoked{(lease.RevokedRevision is { } r ? $" before revision {r}" : "")}");
        }
    }

    /// <summary>Node <paramref name="node"/> applied a revocation of <paramref name="leaseId"/>; <paramref name="store"/> is its state after it.</summary>
    public void OnRevokeApplied(ulong node, long leaseId, MvccStore store, bool expiry)
    {
        if (store.TryGetLease(leaseId, out _))
        {
            monitor.Fail($"lease safety: node {node} applied the revocation of lease {leaseId} but still holds the lease");
        }

        var key = store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(KeyOf(leaseId)) });
        if (key.Kvs.Count > 0 && key.Kvs[0].Lease == leaseId)
        {
            monitor.Fail($"lease safety: node {node} applied the revocation of lease {leaseId} but still holds its key {KeyOf(leaseId)}");
        }

        var lease = Get(leaseId);
        if (lease.RevokedAt is not null)
        {
            return; // an earlier node applied it first; state machine safety checks the rest agree
        }

        lease.RevokedAt = now();
        lease.RevokedRevision = store.Revision;
        lease.ByExpiry = expiry;
        if (expiry)
        {
            Expired++;
        }

        CheckPromise(leaseId, lease);
    }

    /// <summary>Whether the lease was revoked (by expiry or a client) on some node.</summary>
    public bool IsRevoked(long leaseId) => leases.TryGetValue(leaseId, out var lease) && lease.RevokedAt is not null;

    private void CheckPromise(long leaseId, Lease lease)
    {
        if (lease.ByExpiry && lease.RevokedAt is { } at && at < lease.PromisedUntil)
        {
            monitor.Fail($"lease safety: lease {leaseId} expired at {at / 1000.0:F1} ms, but a keep-alive promised it until {lease.PromisedUntil / 1000.0:F1} ms");
        }
    }

    private Lease Get(long leaseId)
    {
        if (!leases.TryGetValue(leaseId, out var lease))
        {
            lease = new Lease();
            leases[leaseId] = lease;
        }

        return lease;
    }

    private sealed class Lease
    {
        public long PromisedUntil { get; set; } = long.MinValue;
        public long? AttachedAt { get; set; }
        public long? RevokedAt { get; set; }
        public long? RevokedRevision { get; set; }
        public bool ByExpiry { get; set; }
    }
}
