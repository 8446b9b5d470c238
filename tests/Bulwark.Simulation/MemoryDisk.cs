using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// An in-memory <see cref="ISimDisk"/> with crash semantics: it keeps the synced image and the list of writes
/// since the last sync, and a crash replays onto the synced image only what the crash lets survive.
/// </summary>
public sealed class MemoryDisk : ISimDisk
{
    private readonly List<Write> unsynced = [];
    private Image durable = new();
    private Image current = new();

    public DiskImage Current => current.ToDiskImage();

    /// <summary>A disk whose synced content is <paramref name="image"/> (to mirror another store's recovered state).</summary>
    public static MemoryDisk From(DiskImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var disk = new MemoryDisk();
        if (image.Snapshot is { } snapshot)
        {
            disk.InstallSnapshot(snapshot, image.SnapshotData);
        }

        disk.Append(image.Entries);
        disk.WriteHardState(image.HardState);
        disk.Sync();
        return disk;
    }

    public int UnsyncedWrites => unsynced.Count;

    public ulong TermAt(ulong index) => current.TermAt(index);

    public void InstallSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data) => Do(new Write.Snapshot(metadata, data.ToArray(), ReplacesLog: true));

    public void SaveSnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data) => Do(new Write.Snapshot(metadata, data.ToArray(), ReplacesLog: false));

    public void Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count > 0)
        {
            Do(new Write.Append(entries.ToArray()));
        }
    }

    public void WriteHardState(HardState state) => Do(new Write.State(state));

    public void Sync()
    {
        foreach (var write in unsynced)
        {
            durable.Apply(write);
        }

        unsynced.Clear();
    }

    public void Crash(DeterministicRandom random, bool mayPersistUnsynced, bool mayTear)
    {
        // Writes reach the platter in order; some may have made it although nobody waited for them.
        var survivors = mayPersistUnsynced && unsynced.Count > 0 ? random.Next(unsynced.Count + 1) : 0;
        for (var i = 0; i < survivors; i++)
        {
            durable.Apply(unsynced[i]);
        }

        // A torn record: the next write was cut in the middle; recovery discards the record whose checksum fails,
        // which for an append means its last entry is lost and the entries before it survive.
        if (mayTear && survivors < unsynced.Count && unsynced[survivors] is Write.Append { Entries.Length: > 1 } torn && random.Chance(0.5))
        {
            durable.Apply(new Write.Append(torn.Entries[..^1]));
        }

        unsynced.Clear();
        current = durable.Clone();
    }

    public DiskImage Recover() => durable.ToDiskImage();

    private void Do(Write write)
    {
        current.Apply(write);
        unsynced.Add(write);
    }

    private abstract record Write
    {
        public sealed record Snapshot(SnapshotMetadata Metadata, byte[] Data, bool ReplacesLog) : Write;

        public sealed record Append(Entry[] Entries) : Write;

        public sealed record State(HardState HardState) : Write;
    }

    private sealed class Image
    {
        private List<Entry> entries = [];
        private HardState hardState;
        private SnapshotMetadata? snapshot;
        private byte[] snapshotData = [];

        public Image Clone() => new() { entries = [.. entries], hardState = hardState, snapshot = snapshot, snapshotData = snapshotData };

        public DiskImage ToDiskImage() => new(hardState, snapshot, snapshotData, entries.ToArray());

        public ulong TermAt(ulong index)
        {
            var floor = snapshot?.Index ?? 0;
            if (index == floor)
            {
                return snapshot?.Term ?? 0;
            }

            return index > floor && index - floor <= (ulong)entries.Count ? entries[(int)(index - floor - 1)].Term : 0;
        }

        public void Apply(Write write)
        {
            switch (write)
            {
                case Write.Snapshot s:
                    snapshot = s.Metadata;
                    snapshotData = s.Data;
                    if (s.ReplacesLog)
                    {
                        entries = [];
                    }
                    else
                    {
                        var covered = entries.Count > 0 && entries[0].Index <= s.Metadata.Index
                            ? (int)Math.Min((ulong)entries.Count, s.Metadata.Index - entries[0].Index + 1)
                            : 0;
                        entries.RemoveRange(0, covered);
                    }

                    break;
                case Write.Append a:
                    AppendEntries(a.Entries);
                    break;
                case Write.State st:
                    hardState = st.HardState;
                    break;
                default:
                    throw new InvalidOperationException($"unknown disk write {write}");
            }
        }

        private void AppendEntries(Entry[] batch)
        {
            var first = batch[0].Index;
            var floor = snapshot?.Index ?? 0;
            if (first <= floor)
            {
                throw new SimulationException($"append at index {first} is at or below the snapshot index {floor}");
            }

            // Entries are contiguous from floor + 1, so an index maps straight to a list position.
            var keep = (int)Math.Min((ulong)entries.Count, first - floor - 1);
            if (keep < entries.Count)
            {
                entries.RemoveRange(keep, entries.Count - keep);
            }

            var last = floor + (ulong)entries.Count;
            if (first != last + 1)
            {
                throw new SimulationException($"append at index {first} leaves a gap after the last index {last}");
            }

            for (var i = 1; i < batch.Length; i++)
            {
                if (batch[i].Index != batch[i - 1].Index + 1)
                {
                    throw new SimulationException($"append batch is not contiguous at index {batch[i].Index}");
                }
            }

            entries.AddRange(batch);
        }
    }
}
