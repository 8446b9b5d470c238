namespace Bulwark.Server.Observability;

/// <summary>One entry of the leader history shown on the status page.</summary>
public sealed record LeaderChange(DateTimeOffset Timestamp, ulong Term, ulong Leader, string LeaderName);
