namespace Bulwark.Client;

/// <summary>
/// Proof of holding a lock or leadership: the holder's key and the revision that created it. Revisions only grow, so a
/// later holder always has a larger <see cref="Revision"/>. Pass it to <see cref="FencedWrites"/>: a write guarded by
/// it is refused once the key is gone or re-created, i.e. once the holder has lost.
/// </summary>
/// <param name="Key">The holder's key (<c>name/{leaseId:x}</c>).</param>
/// <param name="Revision">The key's create revision.</param>
public readonly record struct FencingToken(string Key, long Revision);
