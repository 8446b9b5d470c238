using Bulwark.Availability.Journals;

namespace Bulwark.Chaos.Cluster;

/// <summary>
/// Copies each Bulwark member's event journal (&lt;data-dir&gt;/journal/events.jsonl and its rotated files) into the
/// run's output, so a soak leaves them for `bulwark availability estimate` (docs/availability.md) after the temporary
/// data directories are gone.
/// </summary>
public static class MemberJournals
{
    /// <summary>Copies what each member's journal holds now to <paramref name="outDir"/>/journals/NAME/; returns the files copied.</summary>
    public static int CopyAll(ChaosCluster cluster, string outDir)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var copied = 0;
        foreach (var member in cluster.Members)
        {
            var source = Path.Combine(member.DataDir, "journal");
            if (!Directory.Exists(source))
            {
                continue;
            }

            var target = Path.Combine(outDir, "journals", member.Name);
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(source, "events.jsonl*"))
            {
                try
                {
                    File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
                    copied++;
                }
                catch (IOException)
                {
                    // rotated away while copying: the newer file holds its records' successors; best effort
                }
            }
        }

        return copied;
    }

    public const string ClusterLogFile = "cluster-events.jsonl";

    /// <summary>
    /// Merges the journals copied under <paramref name="outDir"/>/journals/NAME/ into the cluster's one event log for
    /// <paramref name="from"/> .. <paramref name="to"/> (<see cref="JournalMerge"/>) and writes it to
    /// <paramref name="outDir"/>/cluster-events.jsonl, which `bulwark availability estimate --log` reads.
    /// </summary>
    public static ClusterJournal Merge(string outDir, IReadOnlyList<string> members, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(members);
        var records = new List<JournalRecord>();
        var unreadable = 0;
        foreach (var name in members)
        {
            var (read, bad) = MemberJournalReader.ReadDirectory(name, Path.Combine(outDir, "journals", name));
            records.AddRange(read);
            unreadable += bad;
        }

        var journal = JournalMerge.Merge(records, members, from, to, unreadableLines: unreadable);
        File.WriteAllText(Path.Combine(outDir, ClusterLogFile), journal.ToJsonLines());
        return journal;
    }
}
