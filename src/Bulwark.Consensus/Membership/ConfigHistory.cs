namespace Bulwark.Consensus.Membership;

/// <summary>
/// The configurations in force along the log: the one as of the snapshot, then one per configuration entry.
/// A configuration takes effect as soon as its entry is in the log (committed or not), so truncating an
/// uncommitted suffix must revert it, and compaction must know the configuration as of the compaction index.
/// </summary>
internal sealed class ConfigHistory
{
    private readonly List<(ulong Index, ClusterConfig Config)> changes = [];

    public ConfigHistory(ulong baseIndex, ClusterConfig baseConfig) => Reset(baseIndex, baseConfig);

    public ClusterConfig Current => changes[^1].Config;

    /// <summary>Index of the newest configuration entry (or the base index).</summary>
    public ulong CurrentIndex => changes[^1].Index;

    public void Reset(ulong baseIndex, ClusterConfig baseConfig)
    {
        changes.Clear();
        changes.Add((baseIndex, baseConfig));
    }

    public void OnAppend(in Entry entry)
    {
        if (entry.Type != EntryType.ConfigChange)
        {
            return;
        }

        ConfigChange change;
        try
        {
            change = ConfigChange.Decode(entry.Data.Span);
        }
        catch (FormatException e)
        {
            throw new RaftInvariantException($"configuration entry {entry} in the log is malformed: {e.Message}");
        }

        changes.Add((entry.Index, MembershipRules.Apply(Current, change)));
    }

    /// <summary>Entries from <paramref name="fromIndex"/> on were removed: their configurations no longer hold.</summary>
    public void OnTruncate(ulong fromIndex)
    {
        while (changes.Count > 1 && changes[^1].Index >= fromIndex)
        {
            changes.RemoveAt(changes.Count - 1);
        }
    }

    /// <summary>The configuration in force once the entry at <paramref name="index"/> is in the log.</summary>
    public ClusterConfig At(ulong index)
    {
        for (var i = changes.Count - 1; i > 0; i--)
        {
            if (changes[i].Index <= index)
            {
                return changes[i].Config;
            }
        }

        return changes[0].Config;
    }

    /// <summary>Entries up to <paramref name="index"/> were compacted into a snapshot.</summary>
    public void OnCompact(ulong index)
    {
        var config = At(index);
        var keep = 1;
        while (keep < changes.Count && changes[keep].Index <= index)
        {
            keep++;
        }

        changes.RemoveRange(0, keep);
        changes.Insert(0, (index, config));
    }
}
