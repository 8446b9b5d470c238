using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;
using CsCheck;

namespace Bulwark.Storage.Tests;

/// <summary>
/// Random sequences of append (with suffix overwrites), hard state, sync, release (snapshot compaction), crash and
/// reopen, checked step by step against <see cref="ModelLog"/>. CsCheck shrinks a failure to a minimal sequence.
/// </summary>
public sealed class WalPropertyTests
{
    private static readonly WalOptions Options = new() { SegmentSize = 4096, WriteBufferSize = 4096 };

    internal readonly record struct Op(int Kind, int A, int B, int C)
    {
        public override string ToString() => Kind switch
        {
            < 45 => $"Append(back={A % 4}, n={1 + B % 6}, size={C % 300})",
            < 55 => $"HardState({A % 5}, {B % 1000})",
            < 75 => "Sync",
            < 85 => $"Release(+{1 + A % 25}, termMatch={B % 3 != 0})",
            < 93 => $"Crash({(CrashMode)(A % 3)})",
            _ => "Reopen",
        };
    }

    private static readonly Gen<Op[]> Ops =
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000], (k, a, b, c) => new Op(k, a, b, c)).Array[1, 80];

    [Fact]
    public void WalAgreesWithTheModel() =>
        Ops.Sample(Run, iter: 150, threads: 1, seed: new PCG(17, 20261128).ToString());

    private static void Run(Op[] ops)
    {
        var fs = new InMemoryFileSystem(ops.Length);
        var (wal, _) = WriteAheadLog.Open(fs, "/w", Options);
        var model = new ModelLog();
        var sinceAck = new List<ModelLog> { model.Clone() };
        ulong term = 1;
        var step = 0;
        try
        {
            foreach (var op in ops)
            {
                step++;
                switch (op.Kind)
                {
                    case < 45:
                    {
                        var back = (ulong)Math.Min(op.A % 4, (int)(model.LastIndex - model.SnapshotIndex));
                        if (back > 0)
                        {
                            term++;
                        }

                        var start = model.LastIndex + 1 - back;
                        var batch = TestEntries.Range(start, start + (ulong)(op.B % 6), term, op.C % 300, salt: step);
                        wal.Append(batch);
                        foreach (var e in batch)
                        {
                            model.Append(e);
                        }

                        sinceAck.Add(model.Clone());
                        break;
                    }

                    case < 55:
                    {
                        var hs = new HardState(term, (ulong)(op.A % 5), (ulong)(op.B % 1000));
                        wal.SaveHardState(hs);
                        model.HardState = hs;
                        sinceAck.Add(model.Clone());
                        break;
                    }

                    case < 75:
                        Assert.Equal(model.LastIndex, wal.Sync());
                        sinceAck = [model.Clone()];
                        break;
                    case < 85:
                    {
                        var index = model.SnapshotIndex + 1 + (ulong)(op.A % 25);
                        var snapTerm = index <= model.LastIndex && op.B % 3 != 0 ? model.TermAt(index) : term;
                        wal.ReleaseUpTo(index, snapTerm);
                        model.Release(index, snapTerm);
                        sinceAck = [model.Clone()];
                        break;
                    }

                    default:
                    {
                        wal.Dispose();
                        if (op.Kind < 93)
                        {
                            fs.Crash((CrashMode)(op.A % 3));
                        }

                        var (reopened, rec) = WriteAheadLog.Open(fs, "/w", Options);
                        wal = reopened;
                        var match = sinceAck.FindIndex(m => m.Matches(rec));
                        Assert.True(match >= 0, $"step {step}: recovered snap={rec.SnapshotIndex} last={rec.LastIndex} hs={rec.HardState} " +
                                                $"matches no state since the last sync (acknowledged: {sinceAck[0]}, now: {model})");
                        model = sinceAck[match].Clone();
                        sinceAck = [model.Clone()];
                        term = Math.Max(term, Math.Max(model.HardState.Term, model.SnapshotTerm));
                        if (model.Entries.Count > 0)
                        {
                            term = Math.Max(term, model.Entries[^1].Term);
                        }

                        break;
                    }
                }

                Assert.Equal(model.LastIndex, wal.LastIndex);
                Assert.Equal(model.SnapshotIndex + 1, wal.FirstIndex);
                Assert.Equal(model.SnapshotIndex, wal.SnapshotIndex);
                Assert.Equal(model.HardState, wal.HardState);
                foreach (var e in model.Entries)
                {
                    Assert.Equal(e.Term, wal.TermAt(e.Index));
                }
            }

            wal.Sync();
            wal.Dispose();
            fs.Crash(CrashMode.LoseUnsynced);
            var (last, final) = WriteAheadLog.Open(fs, "/w", Options);
            last.Dispose();
            Assert.True(model.Matches(final), $"final recovery differs: expected {model}");
        }
        finally
        {
            wal.Dispose();
        }
    }
}
