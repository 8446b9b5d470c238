using System.Diagnostics;
using Bulwark.Storage.CrashChild;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Wal;

namespace Bulwark.Storage.Tests;

/// <summary>The real file system: a child process appends and reports durable indexes; SIGKILL it mid-stream and recover.</summary>
public sealed class KillNineTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "bulwark-kill9-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void EveryReportedDurableEntrySurvivesKillNine()
    {
        ulong reported = 0;
        for (var round = 0; round < 3; round++)
        {
            var (recoveredFrom, lastDurable) = RunChildAndKill(afterReports: 60 + 80 * round);
            Assert.True(recoveredFrom >= reported, $"round {round}: child recovered {recoveredFrom} < reported durable {reported}");
            reported = Math.Max(reported, lastDurable);

            var (wal, rec) = WriteAheadLog.Open(RealFileSystem.Instance, dir, new WalOptions { SegmentSize = 256 * 1024 });
            wal.Dispose();
            Assert.True(rec.LastIndex >= reported, $"round {round}: recovered up to {rec.LastIndex}, but {reported} was reported durable");
            Assert.Equal(0ul, rec.SnapshotIndex);
            for (var i = 0; i < rec.Entries.Count; i++)
            {
                var expected = ChildWorkload.MakeEntry((ulong)i + 1);
                Assert.True(TestEntries.SameEntry(expected, rec.Entries[i]), $"entry {i + 1} differs after kill -9");
            }
        }

        Assert.True(Directory.GetFiles(dir, "*.wal").Length > 1, "the stream should span several segments");
    }

    private (ulong RecoveredFrom, ulong LastDurable) RunChildAndKill(int afterReports)
    {
        var childDll = Path.Combine(AppContext.BaseDirectory, "Bulwark.Storage.CrashChild.dll");
        Assert.True(File.Exists(childDll), $"missing {childDll}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(childDll);
        start.ArgumentList.Add(dir);
        start.ArgumentList.Add((256 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var child = Process.Start(start)!;
        ulong recovered = 0;
        ulong durable = 0;
        var reports = 0;
        string? line;
        while ((line = child.StandardOutput.ReadLine()) is not null)
        {
            if (line.StartsWith("recovered ", StringComparison.Ordinal))
            {
                recovered = ulong.Parse(line["recovered ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("durable ", StringComparison.Ordinal))
            {
                durable = ulong.Parse(line["durable ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                if (++reports == afterReports)
                {
                    child.Kill(entireProcessTree: true); // SIGKILL: no finalizers, no flushing
                }
            }
        }

        child.WaitForExit();
        Assert.True(reports >= afterReports, $"child stopped early: {child.StandardError.ReadToEnd()}");
        return (recovered, durable);
    }

    public void Dispose()
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
