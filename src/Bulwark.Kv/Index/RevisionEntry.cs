namespace Bulwark.Kv.Index;

/// <summary>
/// One state of a key: what a read at <see cref="ModRevision"/> (until the next change) sees.
/// A tombstone (the key was deleted) has <see cref="Version"/> 0 and no value.
/// </summary>
internal struct RevisionEntry
{
    public long ModRevision;
    public long CreateRevision;
    public long Version;
    public long Lease;

    /// <summary>Never mutated once stored; shared with responses without copying.</summary>
    public byte[]? Value;

    public readonly bool IsTombstone => Version == 0;

    public static RevisionEntry Tombstone(long revision) => new() { ModRevision = revision };
}
