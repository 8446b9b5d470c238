namespace Bulwark.Consensus;

/// <summary>The only source of randomness the core may use (election timeouts). Seeded by the host or simulator.</summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed integer in [0, maxExclusive).</summary>
    int Next(int maxExclusive);
}

/// <summary>A seeded <see cref="Random"/> behind <see cref="IRandomSource"/>.</summary>
public sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random random = new(seed);

    public int Next(int maxExclusive) => random.Next(maxExclusive);
}
