namespace Bulwark.Chaos.Faults;

/// <summary>One planned fault: when it starts (from the workload's start), what, how long it is held, and a draw for
/// whichever member a "random" fault picks.</summary>
public sealed record PlannedFault(int Index, TimeSpan At, FaultKind Kind, TimeSpan Hold, int Draw);

/// <summary>
/// The faults of a run, fixed by the seed before anything starts: one every <c>every</c> from <c>warmup</c> on while
/// the fault and its hold still fit in the run. Kinds are dealt from a freshly shuffled deck of the requested kinds
/// each round, so every requested kind happens once a round (a short run with as many slots as kinds sees each of
/// them) and their order still varies with the seed.
/// </summary>
public static class FaultSchedule
{
    /// <summary>How long each fault is held, as in the harness that reported issue 15 (kill: restart 2–5 s later;
    /// pause and partition: 3–6 s).</summary>
    public static (TimeSpan Min, TimeSpan Max) HoldRange(FaultKind kind) => kind.IsKill()
        ? (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5))
        : (TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6));

    public static IReadOnlyList<PlannedFault> Plan(IReadOnlyList<FaultKind> kinds, TimeSpan duration, TimeSpan every, TimeSpan warmup, int seed)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        var plan = new List<PlannedFault>();
        if (kinds.Count == 0)
        {
            return plan;
        }

        var random = new Random(seed);
        var deck = new List<FaultKind>();
        for (var at = warmup; ; at += every)
        {
            if (deck.Count == 0)
            {
                deck.AddRange(kinds);
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(deck));
            }

            var kind = deck[0];
            var (min, max) = HoldRange(kind);
            var hold = min + TimeSpan.FromMilliseconds(random.NextDouble() * (max - min).TotalMilliseconds);
            if (at + hold > duration)
            {
                break;
            }

            deck.RemoveAt(0);
            plan.Add(new PlannedFault(plan.Count, at, kind, TimeSpan.FromMilliseconds(Math.Round(hold.TotalMilliseconds)), random.Next(1 << 20)));
        }

        return plan;
    }
}
