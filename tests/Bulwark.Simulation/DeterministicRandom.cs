using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// xoshiro256** seeded through SplitMix64: fast, and the same sequence on every platform and .NET version
/// (unlike <see cref="Random"/>, whose algorithm is not a compatibility promise). Every random choice of a run
/// comes from generators derived from the run's seed, so a seed replays the run exactly.
/// </summary>
public sealed class DeterministicRandom : IRandomSource
{
    private ulong s0, s1, s2, s3;

    public DeterministicRandom(ulong seed)
    {
        var x = seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    /// <summary>An independent generator for one component, so adding draws in one place does not shift another.</summary>
    public DeterministicRandom Fork(ulong stream) => new(NextULong() ^ (stream * 0x9E3779B97F4A7C15UL));

    public ulong NextULong()
    {
        var result = RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "upper bound must be positive");
        }

        return (int)(NextULong() % (ulong)maxExclusive);
    }

    /// <summary>A uniformly distributed integer in [min, maxInclusive].</summary>
    public long Between(long min, long maxInclusive) => min + (long)(NextULong() % (ulong)(maxInclusive - min + 1));

    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) =>
        items.Count == 0 ? throw new ArgumentException("cannot pick from an empty list", nameof(items)) : items[Next(items.Count)];

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
