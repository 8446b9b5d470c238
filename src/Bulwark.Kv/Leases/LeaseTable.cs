using Bulwark.Kv.Index;

namespace Bulwark.Kv.Leases;

/// <summary>
/// Granted leases and the keys attached to each. Holds no clock: when a lease expires is the
/// leader's business, which then proposes a revoke like any other command.
/// </summary>
internal sealed class LeaseTable
{
    private readonly Dictionary<long, LeaseRecord> leases = new();

    public int Count => leases.Count;

    /// <summary>Next id to try when a grant asks the store to choose one.</summary>
    public long NextId { get; set; } = 1;

    public bool Contains(long id) => leases.ContainsKey(id);

    public bool TryGet(long id, out LeaseRecord lease) => leases.TryGetValue(id, out lease!);

    public LeaseRecord Add(long id, long ttl)
    {
        var lease = new LeaseRecord(id, ttl);
        leases.Add(id, lease);
        return lease;
    }

    public bool Remove(long id) => leases.Remove(id);

    /// <summary>Picks the next free positive id, deterministically.</summary>
    public long AllocateId()
    {
        long id = NextId;
        while (id <= 0 || leases.ContainsKey(id))
        {
            id = id == long.MaxValue ? 1 : id + 1;
        }

        NextId = id == long.MaxValue ? 1 : id + 1;
        return id;
    }

    public void Attach(long id, KeyRecord key)
    {
        if (leases.TryGetValue(id, out var lease))
        {
            lease.Keys.Add(key);
        }
    }

    public void Detach(long id, KeyRecord key)
    {
        if (leases.TryGetValue(id, out var lease))
        {
            lease.Keys.Remove(key);
        }
    }

    /// <summary>All leases in ascending id order (dictionary order is not deterministic).</summary>
    public LeaseRecord[] SortedById()
    {
        var all = new LeaseRecord[leases.Count];
        leases.Values.CopyTo(all, 0);
        Array.Sort(all, static (a, b) => a.Id.CompareTo(b.Id));
        return all;
    }
}

internal sealed class LeaseRecord(long id, long ttl)
{
    public long Id { get; } = id;

    public long Ttl { get; } = ttl;

    /// <summary>Reference identity: a record stays the same object for as long as its key is live.</summary>
    public HashSet<KeyRecord> Keys { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Attached keys in key order, so deleting them is deterministic.</summary>
    public KeyRecord[] SortedKeys()
    {
        var keys = new KeyRecord[Keys.Count];
        Keys.CopyTo(keys);
        Array.Sort(keys, static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        return keys;
    }
}
