namespace Bulwark.Chaos.Watches;

/// <summary>One event a watcher received: the key's modification at <paramref name="Revision"/> (a delete has no value).</summary>
public sealed record WatchEvent(long Revision, string Key, bool Delete, string? Value);

/// <summary>A write the cluster acknowledged, with the revision its response header named.</summary>
public sealed record AcknowledgedWrite(string Key, string Value, long Revision);

/// <summary>
/// What one watcher saw: its events in arrival order, split into streams (one per connection; a reconnect starts a new
/// stream that resumes at the last revision seen), and the revision ranges the cluster said were compacted away.
/// </summary>
public sealed record WatcherLog(int Watcher, IReadOnlyList<IReadOnlyList<WatchEvent>> Streams, IReadOnlyList<(long From, long To)> Compacted, long LastRevision);
