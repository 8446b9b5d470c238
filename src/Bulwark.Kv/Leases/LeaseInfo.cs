namespace Bulwark.Kv.Leases;

/// <summary>A granted lease as the store knows it: its id, granted TTL in seconds and attached keys (key order).</summary>
public sealed record LeaseInfo(long Id, long GrantedTtl, IReadOnlyList<byte[]> Keys);
