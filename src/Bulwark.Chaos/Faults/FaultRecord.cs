namespace Bulwark.Chaos.Faults;

/// <summary>
/// A fault as it happened: on which member, when it started and was undone (ms on the workload's clock), when the
/// cluster had an agreed leader with every member answering again, and whether its effect was observed — with the
/// observations that say so (<see cref="Evidence"/>). A fault whose effect was not observed is reported as such: a
/// silent no-op must not pass for a fault.
/// </summary>
public sealed record FaultRecord(
    int Index,
    string Kind,
    string Target,
    double StartMs,
    double EndMs,
    double? RecoveredMs,
    bool Observed,
    IReadOnlyList<string> Evidence);
