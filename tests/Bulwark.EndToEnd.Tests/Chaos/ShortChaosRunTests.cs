using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Chaos;

/// <summary>
/// CI's short chaos run: the real `bulwark chaos` command starts three real members in network namespaces, runs the
/// recording workload under a kill of the leader and of a follower, a pause of the leader and of a follower, a
/// partition of the leader and of a random member, and the fault-point faults (a slow disk and a full disk on the
/// leader, an fsync error on a follower and on the leader, a clock jump forward and back), then checks and reports. Asserted: exit code 0, the history
/// linearizable, no acknowledged write lost, the three watchers (one per member, resuming elsewhere on failure) got
/// every modification in order with no problem, every planned fault applied once and its effect observed (with the
/// evidence for each kind), and the report's predicted-versus-measured availability section present with numbers in
/// [0, 1]. Then the checker must bite: the same recorded history with one read made stale is
/// reported as not linearizable (exit code 1, an excerpt naming the read). No wall-clock assertion: windows are
/// reported, not judged. The long soak (--duration 30m) is documented in README, not run here.
/// </summary>
public sealed class ShortChaosRunTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(8);
    private static readonly string[] Faults =
    [
        "kill-leader", "kill-follower", "pause-leader", "pause-follower", "partition-leader", "partition-random",
        "slow-disk-leader", "fsync-error-follower", "fsync-error-leader", "disk-full-leader", "clock-jump",
    ];
    private readonly string outDir = Directory.CreateTempSubdirectory("bulwark-chaos-ci-").FullName;

    public void Dispose() => Directory.Delete(outDir, recursive: true);

    [Fact]
    public async Task Kill_pause_partition_and_disk_and_clock_faults_leave_a_linearizable_history_with_nothing_lost_and_every_fault_observed()
    {
        // Eleven faults: 3 s warm-up, one every 7 s (the last at 73 s), each held at most 6 s, all inside 80 s; a
        // twelfth (at 80 s) cannot fit, so each kind happens exactly once.
        var run = await RunBulwarkAsync(
            "chaos", "--duration", "80s", "--fault-every", "7s", "--faults", string.Join(',', Faults), "--seed", "7",
            "--out", outDir, "--check-time", "180s");

        Assert.True(run.Code == 0, $"bulwark chaos exited {run.Code}{Environment.NewLine}{run.Output}{run.Error}{Environment.NewLine}{Logs()}");
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!;
        Assert.Equal("linearizable", (string?)report["verdict"]!["verdict"]);
        Assert.Empty(report["lostWrites"]!.AsArray());
        Assert.Empty(report["serializableNeverWritten"]!.AsArray());
        Assert.True((int)report["operations"]!["ok"]! > 100, run.Output);
        var watches = report["watches"]!;
        Assert.Equal(3, (int)watches["watchers"]!);
        Assert.True((int)watches["distinctEvents"]! > 100, run.Output);
        Assert.True((int)watches["acknowledgedWritesChecked"]! > 100, run.Output);
        Assert.Empty(watches["problems"]!.AsObject());
        Assert.Empty(watches["behind"]!.AsArray());
        var faults = report["faults"]!.AsArray().Select(f => f!["fault"]!).ToList();
        Assert.Equal(Faults.Order(), faults.Select(f => (string)f["kind"]!).Order());
        foreach (var fault in faults)
        {
            Assert.True((bool)fault["observed"]!, $"{fault["kind"]} not observed: {fault["evidence"]!.ToJsonString()}{Environment.NewLine}{run.Output}");
        }

        string Evidence(string kind) => string.Join("; ", faults.Single(f => (string)f["kind"]! == kind)["evidence"]!.AsArray().Select(e => (string)e!));
        Assert.Matches("pid \\d+ gone", Evidence("kill-leader"));
        Assert.Matches("term \\d+ -> \\d+ after the leader's kill", Evidence("kill-leader"));
        Assert.Matches("pid \\d+ gone.*restarted .* answers again", Evidence("kill-follower"));
        Assert.Matches("state T \\(stopped\\).*does not answer Status.*leads in term", Evidence("pause-leader"));
        Assert.Matches("state T \\(stopped\\).*does not answer Status", Evidence("pause-follower"));
        Assert.Matches("cut off from .*majority side: n\\d leads in term", Evidence("partition-leader"));
        Assert.Matches("cut off from .*(majority side: n\\d leads in term|stuck at applied \\d+)", Evidence("partition-random"));
        Assert.Matches("fsync-delay 50 ms on n\\d: [1-9]\\d* WAL fsyncs during the hold averaged", Evidence("slow-disk-leader"));
        Assert.Matches("fsync-error on n\\d.*failed stop: exit code 70.*restarted .* answers again", Evidence("fsync-error-follower"));
        Assert.Matches("failed stop: exit code 70.*leads in term.*after the leader's fail-stop", Evidence("fsync-error-leader"));
        Assert.Matches("(defragment on n\\d was refused: ResourceExhausted|raised the NOSPACE alarm)", Evidence("disk-full-leader"));
        Assert.Matches("offset -?\\d+ -> -?\\d+ ms.*jumped back.*one leader per term", Evidence("clock-jump"));
        Assert.True(File.Exists(Path.Combine(outDir, "timeline.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "timeline.svg")));
        await TheReportComparesPredictedWithMeasuredAvailability(report, run.Output);

        await TheCheckerBitesOnOneStaleRead();
    }

    /// <summary>
    /// The comparison section: a prediction from the merged journals and the clients' measurement, both in [0, 1], and
    /// the merged log readable by `bulwark availability estimate`. Whether they agree is not asserted: 80 s with eleven
    /// faults of all kinds is far too short (and its faults too unlike the model's) for that; docs/availability.md has
    /// the soak.
    /// </summary>
    private async Task TheReportComparesPredictedWithMeasuredAvailability(JsonNode report, string output)
    {
        var availability = report["availability"] ?? throw new InvalidOperationException("report.json has no availability section" + Environment.NewLine + output);
        Assert.InRange((double)availability["predicted"]!, 0.0, 1.0);
        Assert.InRange((double)availability["predictedLower"]!, 0.0, (double)availability["predicted"]!);
        Assert.InRange((double)availability["measured"]!, 0.0, 1.0);
        Assert.True((int)availability["outages"]! > 0, output);
        // Kills, pauses, partitions and fsync errors take a member out: the journals must see most of them.
        Assert.True((int)availability["schedule"]!["seen"]! > 0, output);
        Assert.Contains("predicted versus measured availability", output, StringComparison.Ordinal);
        Assert.Contains("Predicted versus measured availability", File.ReadAllText(Path.Combine(outDir, "report.md")), StringComparison.Ordinal);

        var estimate = await RunBulwarkAsync("availability", "estimate", "--log", Path.Combine(outDir, "cluster-events.jsonl"), "--json");
        Assert.True(estimate.Code == 0, $"availability estimate exited {estimate.Code}{Environment.NewLine}{estimate.Output}{estimate.Error}");
    }

    private async Task TheCheckerBitesOnOneStaleRead()
    {
        var path = Path.Combine(outDir, "history.json");
        var file = JsonNode.Parse(File.ReadAllText(path))!;
        var all = file["operations"]!.AsArray();
        // The whole faulty history can hold thousands of unknown-outcome writes, and confirming a violation on it may
        // outrun the checker's budget (it did once in CI: exit 3). So the corrupted history is the run's own prefix up
        // to the first unknown outcome (at most 3,000 operations): every operation invoked before that point, and one
        // still running at it becomes unknown-outcome, so every completed read in it saw only writes it contains. A
        // prefix of a linearizable history, cut like this, is linearizable; one stale read in it is a real violation.
        var byCall = all.Select(o => o!).OrderBy(o => (long)o["call"]!).ToList();
        var cut = Math.Min(
            byCall.FirstOrDefault(o => (bool)o["unknown"]!) is { } firstUnknown ? (long)firstUnknown["call"]! : long.MaxValue,
            byCall.Count > 3000 ? (long)byCall[3000]["call"]! : long.MaxValue);
        var ops = new List<JsonNode>();
        foreach (var op in byCall.Where(o => (long)o["call"]! < cut))
        {
            var copy = op.DeepClone();
            if ((bool)copy["unknown"]! || (long)copy["return"]! > cut)
            {
                copy["unknown"] = true;
                copy["return"] = null;
                copy["read"] = null;
                copy["succeeded"] = null;
            }

            ops.Add(copy);
        }

        file["operations"] = new JsonArray(ops.ToArray());
        // A completed read of key K that began after two acknowledged puts of K, one finished before the other began:
        // make it return the older value. No linearization allows it.
        var (read, stale) = FindStaleCandidate(ops) ?? throw new InvalidOperationException("the run recorded no read after two sequential acknowledged puts of its key");
        read["read"] = stale;
        File.WriteAllText(path, file.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var check = await RunBulwarkAsync("chaos", "check", "--history", path);

        Assert.True(check.Code == 1, $"chaos check exited {check.Code}{Environment.NewLine}{check.Output}{check.Error}");
        Assert.Contains("not linearizable", check.Output, StringComparison.Ordinal);
        Assert.Contains($"#{(long)read["id"]!} c{(int)read["client"]!} get({(string)read["key"]!}) -> '{stale}'", check.Output, StringComparison.Ordinal);
    }

    private static (JsonNode Read, string Stale)? FindStaleCandidate(List<JsonNode> ops)
    {
        static bool Acked(JsonNode o) => (string)o["kind"]! == "put" && !(bool)o["unknown"]!;
        foreach (var read in ops.Where(o => (string)o["kind"]! == "get" && !(bool)o["unknown"]! && o["read"] is not null).Skip(50))
        {
            var key = (string)read["key"]!;
            var call = (long)read["call"]!;
            var puts = ops.Where(o => Acked(o) && (string)o["key"]! == key && (long)o["return"]! < call).ToList();
            var older = puts.FirstOrDefault(p => puts.Any(newer => (long)newer["call"]! > (long)p["return"]! && (string)newer["value"]! != (string)p["value"]!));
            if (older is not null && (string)older["value"]! != (string?)read["read"])
            {
                return (read, (string)older["value"]!);
            }
        }

        return null;
    }

    private string Logs()
    {
        var logs = Path.Combine(outDir, "logs");
        if (!Directory.Exists(logs))
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(logs, "*.log").Order())
        {
            var lines = File.ReadAllLines(file);
            text.AppendLine($"--- {Path.GetFileName(file)} (last 40 of {lines.Length} lines)");
            foreach (var line in lines.Skip(Math.Max(0, lines.Length - 40)))
            {
                text.AppendLine(line);
            }
        }

        return text.ToString();
    }

    private static async Task<(int Code, string Output, string Error)> RunBulwarkAsync(params string[] args)
    {
        var info = new ProcessStartInfo(ProcessCluster.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ProcessCluster.BulwarkDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Its members are its children (ip netns exec replaces itself with them): take them along.
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bulwark {string.Join(' ', args)} did not exit within {Patience.TotalMinutes} min{Environment.NewLine}{await output}");
        }

        return (process.ExitCode, await output, await error);
    }
}
