namespace Bulwark.Availability.Journals;

/// <summary>
/// One record of a member's event journal, as the merge reads it: when, who wrote it (the observer), its kind, the
/// node it is about, and for leader changes the leader and term. Only the fields the merge needs are kept.
/// </summary>
public sealed record JournalRecord(DateTimeOffset At, string Observer, string Event, string? Node = null, string? Leader = null, long? Term = null);
