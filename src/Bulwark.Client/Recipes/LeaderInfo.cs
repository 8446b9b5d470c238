namespace Bulwark.Client;

/// <summary>The current leader of an election.</summary>
/// <param name="Key">The leader's key (<c>name/{leaseId:x}</c>).</param>
/// <param name="Value">What the leader proclaimed (e.g. its address).</param>
/// <param name="Revision">The key's create revision: the leader's fencing token revision.</param>
/// <param name="LeaseId">The leader's session lease.</param>
public sealed record LeaderInfo(string Key, string Value, long Revision, long LeaseId)
{
    /// <summary>The leader's fencing token.</summary>
    public FencingToken Token => new(Key, Revision);
}
