using System.CommandLine;
using System.Runtime.InteropServices;
using Bulwark.Chaos;
using Bulwark.Chaos.Analysis;
using Bulwark.Chaos.Cluster;
using Bulwark.Chaos.Faults;
using Bulwark.Cli.Supervision;
using Bulwark.Server.Configuration;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark chaos`: a real-process cluster under a seeded fault schedule with a recording workload, then the history
/// checked and a report (see docs/chaos.md). `bulwark chaos check --history FILE` checks a saved history again.
/// Exit codes: 0 OK, 1 violation, 2 bad input, 3 inconclusive.
/// </summary>
public static class ChaosCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "What to start: bulwark (this program's `serve`) or etcd (the etcd binary on PATH).", DefaultValueFactory = _ => "bulwark" };
        var endpoints = new Option<string?>("--endpoints") { Description = "Client endpoints (host:port,...) of a running cluster to use instead of starting one; then no fault applies (--faults none)." };
        var size = new Option<int>("--size") { Description = "Members to start.", DefaultValueFactory = _ => 3 };
        var clients = new Option<int>("--clients") { Description = "Recording clients (closed loop).", DefaultValueFactory = _ => 8 };
        var keys = new Option<int>("--keys") { Description = "Keys the clients share.", DefaultValueFactory = _ => 5 };
        var duration = new Option<string>("--duration") { Description = "How long the workload runs (60s, 30m).", DefaultValueFactory = _ => "60s" };
        var every = new Option<string>("--fault-every") { Description = "Time between fault starts.", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Fault-free time before the first fault (the baseline).", DefaultValueFactory = _ => "3s" };
        var faults = new Option<string>("--faults")
        {
            Description = $"Comma-separated faults, dealt in a seeded order: {string.Join(", ", FaultKinds.Names)}; all; none.",
            DefaultValueFactory = _ => "kill-leader,kill-follower,pause-leader,partition-leader",
        };
        var seed = new Option<int>("--seed") { Description = "Fixes the fault schedule, the targets of random faults and the workload's choices.", DefaultValueFactory = _ => 1 };
        var opTimeout = new Option<string>("--op-timeout") { Description = "Deadline of each client call; a write past it is recorded with unknown outcome.", DefaultValueFactory = _ => "2s" };
        var checkTime = new Option<string>("--check-time") { Description = "Time budget of the linearizability check (past it: verdict unknown).", DefaultValueFactory = _ => "120s" };
        var output = new Option<string>("--out") { Description = "Directory for report.json, history.json, timeline.png/.svg and logs/.", DefaultValueFactory = _ => "chaos-out" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Members' data root (default: a temporary directory, deleted afterwards)." };
        var keepData = new Option<bool>("--keep-data") { Description = "Keep the temporary data directory." };
        var heartbeat = new Option<int?>("--heartbeat-interval") { Description = "Heartbeat ms passed to every member (default: the system's own: Bulwark 50, etcd 100)." };
        var election = new Option<int?>("--election-timeout") { Description = "Election timeout ms passed to every member (default: Bulwark 500, etcd 1000)." };
        var command = new Command("chaos", "Run a cluster of real processes under faults with a recording workload; check the history for linearizability and lost writes; report availability per fault.")
        {
            target, endpoints, size, clients, keys, duration, every, warmup, faults, seed, opTimeout, checkTime, output, dataDir, keepData, heartbeat, election,
        };
        target.AcceptOnlyFromAmong("bulwark", "etcd");

        // Synchronous with its own signal handling, as `cluster up`: on Ctrl-C the members are killed and the network
        // namespaces deleted before the command returns (System.CommandLine ends an async action 2 s after the signal).
        command.SetAction(parse => Guarded(parse.InvocationConfiguration.Error, () =>
        {
            var (file, prefix) = ChildCommand.ForThisProgram();
            var settings = new ChaosSettings
            {
                Target = parse.GetValue(target)!,
                Endpoints = parse.GetValue(endpoints) is { } e ? e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null,
                Size = parse.GetValue(size),
                Clients = parse.GetValue(clients),
                Keys = parse.GetValue(keys),
                Duration = Duration("--duration", parse.GetValue(duration)!),
                FaultEvery = Duration("--fault-every", parse.GetValue(every)!),
                Warmup = Duration("--warmup", parse.GetValue(warmup)!),
                Faults = FaultKinds.Parse(parse.GetValue(faults)),
                Seed = parse.GetValue(seed),
                OpTimeout = Duration("--op-timeout", parse.GetValue(opTimeout)!),
                CheckTime = Duration("--check-time", parse.GetValue(checkTime)!),
                OutDir = Path.GetFullPath(parse.GetValue(output)!),
                DataDir = parse.GetValue(dataDir) is { } d ? Path.GetFullPath(d) : null,
                KeepData = parse.GetValue(keepData),
                Timing = new RaftTiming(parse.GetValue(heartbeat), parse.GetValue(election)),
                BulwarkCommand = (file, prefix),
            };
            using var stopping = new CancellationTokenSource();
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stopping.Cancel();
            }

            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            var report = ChaosRun.RunAsync(settings, parse.InvocationConfiguration.Output, stopping.Token).GetAwaiter().GetResult();
            return report.ExitCode;
        }));
        command.Subcommands.Add(CreateCheck());
        return command;
    }

    private static Command CreateCheck()
    {
        var history = new Option<string>("--history") { Description = "A history.json written by `bulwark chaos`.", Required = true };
        var checkTime = new Option<string>("--check-time") { Description = "Time budget of the linearizability check.", DefaultValueFactory = _ => "120s" };
        var check = new Command("check", "Check a saved history.json again: linearizability, lost acknowledged writes, serializable reads of values never written.")
        {
            history, checkTime,
        };
        check.SetAction(parse => Guarded(parse.InvocationConfiguration.Error, () =>
        {
            var file = HistoryFile.Load(parse.GetValue(history)!);
            var report = ChaosRun.Recheck(file, Duration("--check-time", parse.GetValue(checkTime)!));
            parse.InvocationConfiguration.Output.Write(report.ToText());
            return report.ExitCode;
        }));
        return check;
    }

    private static int Guarded(TextWriter error, Func<int> run)
    {
        try
        {
            return run();
        }
        catch (ChaosInputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ChaosReport.ExitBadInput;
        }
    }

    private static TimeSpan Duration(string option, string text)
    {
        if (long.TryParse(text, out _))
        {
            throw new ChaosInputException(option, $"'{text}' has no unit; write it as 500ms, 60s, 30m or 1h");
        }

        var (ok, value) = DurationSyntax.TryParse(text);
        return ok ? value : throw new ChaosInputException(option, $"'{text}' is not a duration like 500ms, 60s, 30m or 1h");
    }
}
