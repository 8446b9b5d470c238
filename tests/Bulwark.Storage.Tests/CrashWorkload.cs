using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

/// <summary>
/// A seeded mix of appends (with Raft suffix overwrites), hard states, syncs and releases, recorded as a list of
/// record-level events so a test can tell which states a crash may legally leave behind: the state after any prefix
/// of the events that includes everything acknowledged by a completed Sync.
/// </summary>
internal sealed class CrashWorkload
{
    public const string Dir = "/node/wal";
    public static readonly WalOptions Options = new() { SegmentSize = 4096, WriteBufferSize = 4096 };

    private readonly int seed;
    private readonly int steps;
    private readonly int minEntryBytes;
    private readonly int maxEntryBytes;

    /// <param name="minEntryBytes">Smallest entry data.</param>
    /// <param name="maxEntryBytes">Largest entry data (exclusive).</param>
    public CrashWorkload(int seed, int steps, int minEntryBytes = 0, int maxEntryBytes = 400)
    {
        this.seed = seed;
        this.steps = steps;
        this.minEntryBytes = minEntryBytes;
        this.maxEntryBytes = maxEntryBytes;
    }

    /// <summary>Model states: States[j] is the log after the first j events.</summary>
    public List<ModelLog> States { get; } = [];

    /// <summary>Events acknowledged durable (by a Sync or ReleaseUpTo that returned).</summary>
    public int AcknowledgedEvents { get; private set; }

    public void Run(IFileSystem fs)
    {
        States.Clear();
        States.Add(new ModelLog());
        AcknowledgedEvents = 0;
        var rng = new Random(seed);
        var (wal, _) = WriteAheadLog.Open(fs, Dir, Options);
        using (wal)
        {
            ulong term = 1;
            for (var step = 0; step < steps; step++)
            {
                var model = States[^1];
                var roll = rng.Next(100);
                if (roll < 55)
                {
                    var start = model.LastIndex + 1;
                    if (rng.Next(6) == 0 && model.LastIndex > model.SnapshotIndex)
                    {
                        // Overwrite a suffix with a newer term.
                        start = model.LastIndex - (ulong)rng.Next((int)Math.Min(4, model.LastIndex - model.SnapshotIndex));
                        term++;
                    }

                    var count = rng.Next(1, 6);
                    var batch = new Entry[count];
                    for (var i = 0; i < count; i++)
                    {
                        batch[i] = TestEntries.Make(start + (ulong)i, term, rng.Next(minEntryBytes, maxEntryBytes), salt: step);
                    }

                    foreach (var e in batch)
                    {
                        Push(m => m.Append(e));
                    }

                    wal.Append(batch);
                }
                else if (roll < 70)
                {
                    var hs = new HardState(term, (ulong)rng.Next(1, 4), Math.Min(model.LastIndex, (ulong)rng.Next(0, 1000)));
                    if (hs != model.HardState)
                    {
                        Push(m => m.HardState = hs);
                    }

                    wal.SaveHardState(hs);
                }
                else if (roll < 95)
                {
                    wal.Sync();
                    AcknowledgedEvents = States.Count - 1;
                }
                else
                {
                    var index = model.SnapshotIndex + (ulong)rng.Next(1, 30);
                    var snapTerm = index <= model.LastIndex && rng.Next(4) != 0 ? model.TermAt(index) : term;
                    if (index > model.LastIndex)
                    {
                        // A snapshot from the leader beyond our log.
                        term = Math.Max(term, snapTerm);
                    }

                    Push(m => m.Release(index, snapTerm));
                    wal.ReleaseUpTo(index, snapTerm);
                    AcknowledgedEvents = States.Count - 1;
                }
            }

            wal.Sync();
            AcknowledgedEvents = States.Count - 1;
        }
    }

    private void Push(Action<ModelLog> change)
    {
        var next = States[^1].Clone();
        change(next);
        States.Add(next);
    }

    /// <summary>The first acceptable state index that <paramref name="recovery"/> matches, or -1.</summary>
    public int MatchingState(WalRecovery recovery)
    {
        for (var j = AcknowledgedEvents; j < States.Count; j++)
        {
            if (States[j].Matches(recovery))
            {
                return j;
            }
        }

        return -1;
    }
}
