using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Chaos.Cluster;

/// <summary>
/// The members of a chaos run as real processes: on loopback, or each in its own network namespace when a
/// <see cref="NetworkLab"/> is given. Members can be killed (SIGKILL) and restarted on the same data and ports,
/// paused (SIGSTOP) and resumed (SIGCONT), and asked for their status. Each member's output goes to NAME.log in
/// <see cref="LogDir"/>. Disposing kills every member.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private static readonly TimeSpan StatusDeadline = TimeSpan.FromMilliseconds(800);
    private readonly ServerFlavor flavor;
    private readonly RaftTiming timing;
    private readonly NetworkLab? lab;
    private readonly Process?[] processes;
    private readonly GrpcChannel[] probes;
    private readonly Lock gate = new();

    public ChaosCluster(ServerFlavor flavor, int size, string dataRoot, string logDir, RaftTiming timing, NetworkLab? lab)
    {
        ArgumentNullException.ThrowIfNull(flavor);
        this.flavor = flavor;
        this.timing = timing;
        this.lab = lab;
        LogDir = logDir;
        Directory.CreateDirectory(logDir);
        var ports = LoopbackPorts.Take(3 * size);
        Members = Enumerable.Range(0, size)
            .Select(i => new MemberSpec($"n{i + 1}", lab?.Address(i) ?? "127.0.0.1", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2], Path.Combine(dataRoot, $"n{i + 1}")))
            .ToList();
        processes = new Process?[size];
        probes = Members.Select(m => ChannelFactory.Create(m.ClientUrl)).ToArray();
    }

    public string System => flavor.System;

    public IReadOnlyList<MemberSpec> Members { get; }

    public int Size => Members.Count;

    public string LogDir { get; }

    public NetworkLab? Lab => lab;

    public IReadOnlyList<string> ClientUrls => Members.Select(m => m.ClientUrl).ToList();

    public bool IsRunning(int i)
    {
        lock (gate)
        {
            return processes[i] is { HasExited: false };
        }
    }

    /// <summary>The exit code of member <paramref name="i"/>'s process when it exited on its own (not killed by us); else null.</summary>
    public int? ExitCode(int i)
    {
        lock (gate)
        {
            return processes[i] is { HasExited: true } p ? p.ExitCode : null;
        }
    }

    public int? Pid(int i)
    {
        lock (gate)
        {
            return processes[i] is { HasExited: false } p ? p.Id : null;
        }
    }

    /// <summary>Starts every member, then waits (up to <paramref name="patience"/>) for them to agree on a leader.</summary>
    public async Task StartAsync(TimeSpan patience, CancellationToken cancel)
    {
        for (var i = 0; i < Size; i++)
        {
            Start(i);
        }

        await WaitForLeaderAsync(patience, cancel).ConfigureAwait(false);
    }

    /// <summary>Starts member <paramref name="i"/> (again) on its data and ports.</summary>
    public void Start(int i)
    {
        var member = Members[i];
        Directory.CreateDirectory(member.DataDir);
        var (file, args, environment) = flavor.CommandLine(member, Members, timing);
        var (runFile, prefix) = lab is null ? (file, (IReadOnlyList<string>)[]) : lab.Exec(i, file);
        var info = new ProcessStartInfo(runFile)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // A service's working directory is its state directory; Bulwark's hosts watch the working directory.
            WorkingDirectory = member.DataDir,
        };
        foreach (var arg in prefix.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(Path.Combine(LogDir, member.Name + ".log"), append: true) { AutoFlush = true };
        var logGate = new Lock();
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (logGate)
            {
                log.WriteLine(line);
            }
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        lock (gate)
        {
            if (processes[i] is { HasExited: false })
            {
                throw new InvalidOperationException($"{member.Name} is already running");
            }

            if (!process.Start())
            {
                throw new InvalidOperationException($"could not start {runFile}");
            }

            processes[i] = process;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL to member <paramref name="i"/>'s process (no flush, no goodbye); returns once it is gone.</summary>
    public async Task<int> KillAsync(int i)
    {
        Process process;
        lock (gate)
        {
            process = processes[i] ?? throw new InvalidOperationException($"{Members[i].Name} is not running");
            processes[i] = null;
        }

        var pid = process.Id;
        try
        {
            // The process itself, not its tree: a tree kill walks every process first and only then kills.
            process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        process.Dispose();
        return pid;
    }

    public int Pause(int i)
    {
        var pid = Pid(i) ?? throw new InvalidOperationException($"{Members[i].Name} is not running");
        Signals.Stop(pid);
        return pid;
    }

    public void Resume(int i)
    {
        if (Pid(i) is { } pid)
        {
            Signals.Continue(pid);
        }
    }

    /// <summary>The Maintenance API of member <paramref name="i"/> (its probe connection).</summary>
    public Maintenance.MaintenanceClient MaintenanceOf(int i) => new(probes[i]);

    /// <summary>Member <paramref name="i"/>'s status, or null when it does not answer within a short deadline.</summary>
    public async Task<MemberStatus?> TryStatusAsync(int i, CancellationToken cancel = default)
    {
        if (!IsRunning(i))
        {
            return null;
        }

        try
        {
            var maintenance = new Maintenance.MaintenanceClient(probes[i]);
            var status = await maintenance.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + StatusDeadline, cancellationToken: cancel).ConfigureAwait(false);
            return new MemberStatus(i, status.Header.MemberId, status.Leader, status.RaftTerm, (long)status.RaftAppliedIndex);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>Every answering member's status (asked in parallel).</summary>
    public async Task<IReadOnlyList<MemberStatus>> StatusesAsync(CancellationToken cancel = default)
    {
        var all = await Task.WhenAll(Enumerable.Range(0, Size).Select(i => TryStatusAsync(i, cancel))).ConfigureAwait(false);
        return all.OfType<MemberStatus>().ToList();
    }

    /// <summary>
    /// The leader's index when every member in <paramref name="among"/> (default: all running) answers and names the
    /// same leader, itself one of them; else null.
    /// </summary>
    public async Task<(int Index, ulong Term)?> AgreedLeaderAsync(IReadOnlyCollection<int>? among = null, CancellationToken cancel = default)
    {
        var members = (among ?? Enumerable.Range(0, Size).Where(IsRunning).ToList()).ToList();
        var statuses = (await Task.WhenAll(members.Select(i => TryStatusAsync(i, cancel))).ConfigureAwait(false)).ToList();
        if (statuses.Count == 0 || statuses.Any(s => s is null))
        {
            return null;
        }

        var leaderId = statuses[0]!.Leader;
        var leader = statuses.FirstOrDefault(s => s!.MemberId == leaderId);
        return leaderId != 0 && leader is not null && statuses.All(s => s!.Leader == leaderId) ? (leader.Member, leader.Term) : null;
    }

    public async Task<(int Index, ulong Term)> WaitForLeaderAsync(TimeSpan patience, CancellationToken cancel)
    {
        var found = await Poll.UntilAsync(async () => await AgreedLeaderAsync(cancel: cancel).ConfigureAwait(false), patience, cancel).ConfigureAwait(false);
        return found ?? throw new TimeoutException($"{System}: the members did not agree on a leader within {patience.TotalSeconds:0} s; logs in {LogDir}");
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            Process? process;
            lock (gate)
            {
                process = processes[i];
                processes[i] = null;
            }

            if (process is null)
            {
                continue;
            }

            try
            {
                if (!process.HasExited)
                {
                    Signals.Continue(process.Id); // a stopped process dies of SIGKILL too, but do not leave one stopped if the kill fails
                    process.Kill(entireProcessTree: false);
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or global::System.ComponentModel.Win32Exception)
            {
                // best effort: keep stopping the others
            }

            process.Dispose();
        }

        foreach (var channel in probes)
        {
            channel.Dispose();
        }
    }
}
