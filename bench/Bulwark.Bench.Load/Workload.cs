namespace Bulwark.Bench.Load;

/// <summary>What each operation of a run is.</summary>
public enum Workload
{
    /// <summary>Every operation is a put of one key.</summary>
    Put,

    /// <summary>Every operation is a range read of one key.</summary>
    Get,

    /// <summary>Each operation is a get with probability <see cref="LoadOptions.ReadPercent"/>, else a put.</summary>
    Mix,
}

/// <summary>How gets are served: through the leader's read point (linearizable) or from the local state (serializable, may be stale).</summary>
public enum ReadConsistency
{
    Linearizable,
    Serializable,
}
