namespace Bulwark.Consensus;

/// <summary>
/// The state a node must persist (and sync) before it sends any message that depends on it:
/// the current term, whom it voted for in that term (0 = nobody) and the highest index it knows committed.
/// </summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public static readonly HardState Empty = default;

    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}
