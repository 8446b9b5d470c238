namespace Bulwark.Client;

/// <summary>What a watch reports.</summary>
/// <param name="Prefix">Watch every key that starts with the key (etcd's <c>--prefix</c>).</param>
/// <param name="StartRevision">The first revision to report (0: changes after the watch is created).</param>
/// <param name="PrevKv">Report each event's previous key-value as well.</param>
/// <param name="RangeEnd">Watch the range [key, RangeEnd) instead (ignored when <paramref name="Prefix"/> is true).</param>
/// <param name="NoPut">Leave out PUT events.</param>
/// <param name="NoDelete">Leave out DELETE events.</param>
public sealed record WatchOptions(
    bool Prefix = false,
    long StartRevision = 0,
    bool PrevKv = false,
    string? RangeEnd = null,
    bool NoPut = false,
    bool NoDelete = false);
