using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

public sealed class CrashPointTests
{
    [Theory]
    [InlineData(1, CrashMode.LoseUnsynced)]
    [InlineData(2, CrashMode.TearLastUnsynced)]
    [InlineData(3, CrashMode.RandomPrefix)]
    [InlineData(4, CrashMode.RandomPrefix)]
    public void CrashAtEveryFaultPointRecoversAnAcknowledgedState(int seed, CrashMode mode) =>
        CrashAtEveryFaultPoint(new CrashWorkload(seed, steps: 120), seed, mode);

    // Entries of 512 B to 3 KiB: most batches pass the 4 KiB write buffer (written during Append) and many are larger
    // than the 4 KiB segment size (each gets a segment of its own size).
    [Theory]
    [InlineData(5, CrashMode.LoseUnsynced)]
    [InlineData(6, CrashMode.TearLastUnsynced)]
    [InlineData(7, CrashMode.RandomPrefix)]
    public void CrashAtEveryFaultPointWithLargeBatchesRecoversAnAcknowledgedState(int seed, CrashMode mode) =>
        CrashAtEveryFaultPoint(new CrashWorkload(seed, steps: 80, minEntryBytes: 512, maxEntryBytes: 3000), seed, mode);

    private static void CrashAtEveryFaultPoint(CrashWorkload workload, int seed, CrashMode mode)
    {
        var clean = new InMemoryFileSystem(seed);
        workload.Run(clean);
        var points = clean.FaultPoints;
        Assert.True(points > 100, $"workload too small: {points} fault points");

        for (long k = 1; k <= points; k++)
        {
            var fs = new InMemoryFileSystem(seed * 1000 + (int)k) { CrashAtFaultPoint = k };
            Assert.Throws<SimulatedCrashException>(() => workload.Run(fs));
            fs.Crash(mode);

            // Crash again at the first write of the recovery itself (cutting a torn tail, deleting an unfinished segment).
            fs.CrashAtFaultPoint = fs.FaultPoints + 1;
            try
            {
                WriteAheadLog.Open(fs, CrashWorkload.Dir, CrashWorkload.Options).Log.Dispose();
            }
            catch (SimulatedCrashException)
            {
                fs.Crash(mode);
            }

            fs.CrashAtFaultPoint = null;

            var (wal, first) = WriteAheadLog.Open(fs, CrashWorkload.Dir, CrashWorkload.Options);
            var matched = workload.MatchingState(first);
            Assert.True(matched >= 0,
                $"crash at point {k}/{points} ({mode}): recovered {Describe(first)} is not a state at or after the acknowledged one " +
                $"({workload.States[workload.AcknowledgedEvents]}), events {workload.AcknowledgedEvents}..{workload.States.Count - 1}");
            Assert.Equal(first.LastIndex, wal.LastIndex);
            wal.Dispose();

            // Recovering again (with or without another crash) gives the same state.
            var (again, second) = WriteAheadLog.Open(fs, CrashWorkload.Dir, CrashWorkload.Options);
            Assert.True(workload.States[matched].Matches(second), $"second recovery differs at point {k}");
            again.Dispose();
            fs.Crash(CrashMode.LoseUnsynced);

            // Appending after recovery works, and nothing left over from the crash comes back after it.
            var (resumed, third) = WriteAheadLog.Open(fs, CrashWorkload.Dir, CrashWorkload.Options);
            Assert.True(workload.States[matched].Matches(third), $"third recovery differs at point {k}");
            var model = workload.States[matched].Clone();
            var term = Math.Max(model.HardState.Term, Math.Max(model.SnapshotTerm, model.Entries.Count > 0 ? model.Entries[^1].Term : 0)) + 1;
            var more = TestEntries.Range(model.LastIndex + 1, model.LastIndex + 3, term, 100, salt: 77);
            resumed.Append(more);
            resumed.Sync();
            resumed.Dispose();
            foreach (var e in more)
            {
                model.Append(e);
            }

            fs.Crash(CrashMode.RandomPrefix);
            var (_, fourth) = WriteAheadLog.Open(fs, CrashWorkload.Dir, CrashWorkload.Options);
            Assert.True(model.Matches(fourth), $"after resuming at point {k}: expected {model}, got {Describe(fourth)}");
        }
    }

    private static string Describe(WalRecovery r) =>
        $"hs={r.HardState} snap={r.SnapshotIndex}@{r.SnapshotTerm} entries={r.Entries.Count} last={r.LastIndex} torn={r.TornTail}";
}
