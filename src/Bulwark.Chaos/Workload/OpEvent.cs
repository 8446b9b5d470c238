namespace Bulwark.Chaos.Workload;

public enum OpOutcome
{
    /// <summary>Answered: a write acknowledged, a read returned.</summary>
    Ok,

    /// <summary>A read that failed (it changed nothing) or a write refused for certain.</summary>
    Failed,

    /// <summary>A write whose fate is unknown (timed out, connection lost): it may or may not have happened.</summary>
    Unknown,
}

/// <summary>
/// One client call on the run's clock (ms since the workload started): what it was, which member it went to, how it
/// ended and, when it did not succeed, the gRPC status code and message. <see cref="OperationIds"/> are the ids of the
/// history operations it recorded (two for a two-key Txn; none for a serializable read, which is checked apart).
/// </summary>
public sealed record OpEvent(
    int Client,
    string Kind,
    int Member,
    double StartMs,
    double EndMs,
    OpOutcome Outcome,
    string? Code,
    string? Message,
    IReadOnlyList<long> OperationIds);

/// <summary>A serializable read: served by whichever member was asked, from its own state, so it may be stale.</summary>
public sealed record SerializableRead(int Client, int Member, string Key, string? Value, double StartMs, double EndMs);
