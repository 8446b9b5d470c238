using System.Globalization;
using Bulwark.Availability;
using Bulwark.Availability.Journals;
using Bulwark.Chaos.Analysis;
using Bulwark.Chaos.Cluster;
using Bulwark.Chaos.Faults;
using Bulwark.Chaos.Watches;
using Bulwark.Chaos.Workload;

namespace Bulwark.Chaos;

/// <summary>
/// One `bulwark chaos` run: start the cluster (or use the given endpoints), run the recording workload while the
/// seeded fault schedule plays, read every key once more, then check and report. Writes history.json, report.json,
/// timeline.png/.svg and the members' logs (logs/) to the output directory.
/// </summary>
public static class ChaosRun
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(120);

    /// <summary>How long the watchers get after the final reads to receive everything up to the last revision.</summary>
    private static readonly TimeSpan WatchCatchUpPatience = TimeSpan.FromSeconds(30);

    public static async Task<ChaosReport> RunAsync(ChaosSettings settings, TextWriter output, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        settings.Validate();
        Directory.CreateDirectory(settings.OutDir);
        var notes = new List<string>();
        var kinds = settings.Faults.ToList();
        NetworkLab? lab = null;
        ChaosCluster? cluster = null;
        var dataRoot = settings.DataDir ?? Path.Combine(Path.GetTempPath(), "bulwark-chaos-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            IReadOnlyList<string> endpoints;
            if (settings.Endpoints is { Count: > 0 } given)
            {
                endpoints = given.Select(e => e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e).ToList();
                notes.Add($"running against {string.Join(",", endpoints)}: no faults (they need the member processes, which this run did not start)");
            }
            else
            {
                if (kinds.Any(k => k.NeedsNetwork()))
                {
                    lab = TryNetworkLab(settings.Size, notes, output);
                    if (lab is null)
                    {
                        var skipped = kinds.Where(k => k.NeedsNetwork()).ToList();
                        kinds.RemoveAll(k => k.NeedsNetwork());
                        notes.Add($"skipped {string.Join(", ", skipped.Select(k => k.Name()))}: no network namespaces");
                    }
                }

                if (settings.Target == "etcd" && kinds.Any(k => k.NeedsFaultPoints()))
                {
                    var skipped = kinds.Where(k => k.NeedsFaultPoints()).ToList();
                    kinds.RemoveAll(k => k.NeedsFaultPoints());
                    var why = $"skipped {string.Join(", ", skipped.Select(k => k.Name()))} (n/a for etcd: they need Bulwark's fault points)";
                    output.WriteLine(why);
                    notes.Add(why);
                }

                ServerFlavor flavor = settings.Target == "etcd"
                    ? new EtcdFlavor(EtcdFlavor.Find() ?? throw new ChaosInputException("--target", "etcd is not on PATH (Debian: apt-get install etcd-server)"))
                    : new BulwarkFlavor(settings.BulwarkCommand.File, settings.BulwarkCommand.Prefix) { FaultInjection = kinds.Any(k => k.NeedsFaultPoints()) };
                cluster = new ChaosCluster(flavor, settings.Size, dataRoot, Path.Combine(settings.OutDir, "logs"), settings.Timing, lab);
                output.WriteLine($"starting {settings.Size} {flavor.System} members{(lab is null ? " on loopback" : $" in network namespaces {lab.Prefix}n1..n{settings.Size} (10.77.{lab.Subnet}.0/24)")}; data under {dataRoot}, logs under {cluster.LogDir}");
                await cluster.StartAsync(StartPatience, cancel).ConfigureAwait(false);
                endpoints = cluster.ClientUrls;
            }

            var plan = FaultSchedule.Plan(kinds, settings.Duration, settings.FaultEvery, settings.Warmup, settings.Seed);
            output.WriteLine($"workload: {settings.Clients} clients on {settings.Keys} keys via {string.Join(",", endpoints)} for {settings.Duration.TotalSeconds:0} s; {plan.Count} faults planned (seed {settings.Seed})");
            foreach (var p in plan)
            {
                output.WriteLine($"  at {p.At.TotalSeconds,5:0.0} s  {p.Kind.Name()}  held {p.Hold.TotalMilliseconds:0} ms");
            }

            using var workload = new ChaosWorkload(endpoints, new WorkloadSettings(settings.Clients, settings.Keys, settings.OpTimeout, settings.Seed));
            var fromRevision = await workload.ClearAsync(TimeSpan.FromSeconds(60), cancel).ConfigureAwait(false) + 1;
            var log = workload.Log;
            using var watchers = new ChaosWatchers(endpoints, fromRevision);
            using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var watching = watchers.RunAsync(stopWatching.Token);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var running = workload.RunAsync(stop.Token);
            var records = new List<FaultRecord>();
            try
            {
                if (cluster is not null)
                {
                    using var admin = new MemberAdmin(cluster);
                    var injector = new FaultInjector(cluster, () => log.Now, output, admin);
                    foreach (var fault in plan)
                    {
                        await DelayUntil(log, fault.At.TotalMilliseconds, cancel).ConfigureAwait(false);
                        records.Add(await injector.ApplyAsync(fault, cancel).ConfigureAwait(false));
                    }
                }

                await DelayUntil(log, settings.Duration.TotalMilliseconds, cancel).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await running.ConfigureAwait(false);
            }

            var endMs = log.Now;
            output.WriteLine($"workload stopped at {endMs / 1000:0.0} s; reading every key once more");
            await workload.FinalReadsAsync(TimeSpan.FromSeconds(60), cancel).ConfigureAwait(false);
            var toRevision = workload.FinalRevision;
            var caughtUp = await Poll.UntilTrueAsync(() => Task.FromResult(watchers.CaughtUpTo(toRevision)), WatchCatchUpPatience, cancel).ConfigureAwait(false);
            await stopWatching.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            var watchReport = WatchCheck.Check(watchers.Logs(), log.AcknowledgedWrites, fromRevision, toRevision);
            output.WriteLine($"watchers {(caughtUp ? "caught up" : "did not all catch up")} to revision {toRevision}");
            ClusterJournal? clusterJournal = null;
            if (cluster is { System: "bulwark" })
            {
                var journals = MemberJournals.CopyAll(cluster, settings.OutDir);
                output.WriteLine($"copied {journals} journal file(s) of the members to {Path.Combine(settings.OutDir, "journals")}");
                clusterJournal = MergeJournals(settings.OutDir, cluster, log, endMs, notes, output);
            }
            else
            {
                notes.Add("no availability comparison: it needs Bulwark members' event journals");
            }

            var report = Analyze(settings, cluster?.System ?? "endpoints", cluster?.Size ?? endpoints.Count, notes, log, records, endMs, clusterJournal, watchReport, output);
            output.Write(report.ToText());
            return report;
        }
        finally
        {
            if (cluster is not null)
            {
                await cluster.DisposeAsync().ConfigureAwait(false);
            }

            lab?.Dispose();
            if (settings.DataDir is null && !settings.KeepData)
            {
                TryDelete(dataRoot);
            }
        }
    }

    /// <summary>Checks a saved history.json again (as a run does at its end), without windows or faults.</summary>
    public static ChaosReport Recheck(HistoryFile file, TimeSpan checkTime)
    {
        ArgumentNullException.ThrowIfNull(file);
        var history = file.History();
        var finalClient = history.Count == 0 ? 0 : history.Max(o => o.ClientId);
        var verdict = HistoryVerdict.Check(history, checkTime);
        var counts = OperationCounts.From(file.Events, file.SerializableReads.Count);
        return new ChaosReport(
            "history.json", 0, finalClient, history.Select(o => o.Input.Key).Distinct().Count(), 0, file.Events.Count == 0 ? 0 : file.Events.Max(e => e.EndMs),
            ["re-check of a saved history: no faults or windows"], counts, history.Count, verdict,
            LostWrites.Find(history, finalClient), SerializableCheck.NeverWritten(file.SerializableReads, history), 0, []);
    }

    /// <summary>The members' journals merged into cluster-events.jsonl over the clients' window (from 1 s in to the
    /// workload's end), or null with a note when they cannot be (a window too short, a journal the merge refuses).</summary>
    private static ClusterJournal? MergeJournals(string outDir, ChaosCluster cluster, WorkloadLog log, double endMs, List<string> notes, TextWriter output)
    {
        if (endMs <= AvailabilityComparison.SkipMs)
        {
            notes.Add("no availability comparison: the workload ran less than a second");
            return null;
        }

        try
        {
            var journal = MemberJournals.Merge(
                outDir, cluster.Members.Select(m => m.Name).ToList(),
                log.StartedAt + TimeSpan.FromMilliseconds(AvailabilityComparison.SkipMs), log.StartedAt + TimeSpan.FromMilliseconds(endMs));
            output.WriteLine($"merged the members' journals into {Path.Combine(outDir, MemberJournals.ClusterLogFile)}: {journal.Outages.Count} outage(s), {journal.Failovers.Count} leader change(s)");
            return journal;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AvailabilityInputException)
        {
            notes.Add("no availability comparison: the journals could not be merged: " + e.Message);
            return null;
        }
    }

    private static ChaosReport Analyze(ChaosSettings settings, string system, int members, List<string> notes, WorkloadLog log, IReadOnlyList<FaultRecord> records, double endMs, ClusterJournal? journal, WatchReport watches, TextWriter output)
    {
        var history = log.Recorder.Build();
        var events = log.Events;
        var file = new HistoryFile(history.Select(HistoryEntry.From).ToList(), log.SerializableReads, events);
        file.Save(Path.Combine(settings.OutDir, "history.json"));
        output.WriteLine($"checking {history.Count} operations (budget {settings.CheckTime.TotalSeconds:0} s)");
        var verdict = HistoryVerdict.Check(history, settings.CheckTime);
        var windows = UnavailabilityWindows.PerFault(records, events, endMs);
        var baselineEnd = records.Count > 0 ? records[0].StartMs : endMs;
        var report = new ChaosReport(
            system, members, settings.Clients, settings.Keys, settings.Seed, endMs, notes,
            OperationCounts.From(events, log.SerializableReads.Count), history.Count, verdict,
            LostWrites.Find(history, settings.Clients), SerializableCheck.NeverWritten(log.SerializableReads, history),
            UnavailabilityWindows.Longest(events, Math.Min(1000, baselineEnd), baselineEnd),
            records.Zip(windows, (r, w) => new FaultReport(r, w.LongestMs, w.FromMs)).ToList(),
            journal is null ? null : AvailabilityComparison.From(journal, records, events, log.StartedAt, endMs, settings.FaultEvery),
            log.StartedAt)
        {
            Watches = watches,
        };
        report.Save(Path.Combine(settings.OutDir, "report.json"));
        report.SaveMarkdown(Path.Combine(settings.OutDir, "report.md"));
        var (png, _) = TimelinePlot.Save(system, events, records, endMs, settings.OutDir);
        output.WriteLine($"wrote {Path.Combine(settings.OutDir, "report.json")}, report.md, history.json, {Path.GetFileName(png)} and timeline.svg");
        return report;
    }

    private static NetworkLab? TryNetworkLab(int size, List<string> notes, TextWriter output)
    {
        if (NetworkLab.Unavailable() is { } why)
        {
            output.WriteLine($"partition faults skipped: {why}");
            notes.Add(why);
            return null;
        }

        try
        {
            return NetworkLab.Create(size);
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"partition faults skipped: could not build network namespaces: {e.Message}");
            notes.Add("could not build network namespaces: " + e.Message);
            return null;
        }
    }

    private static async Task DelayUntil(WorkloadLog log, double ms, CancellationToken cancel)
    {
        var left = ms - log.Now;
        if (left > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left), cancel).ConfigureAwait(false);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a leftover temporary directory is harmless
        }
    }

    internal static string Ms(double ms) => ms.ToString("0", CultureInfo.InvariantCulture);
}
