using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.TestSupport;

/// <summary>
/// The processes of a cluster running on this machine, one slot per node: start a node, kill it with SIGKILL (the
/// node's process, at once; see <see cref="KillAsync"/>), ask it for its status, wait for the running nodes to agree
/// on a leader. What a node runs (command line, working directory) and where its output goes (a log file, a buffer)
/// is the owner's. Shared by the end-to-end tests (ProcessCluster) and bulwark-compare (ClusterUnderTest), which link
/// this file.
/// </summary>
public sealed class NodeProcesses : IAsyncDisposable
{
    private readonly Process?[] processes;
    private readonly GrpcChannel[] channels;

    /// <param name="names">Node names, for messages.</param>
    /// <param name="clientUrls">Each node's client URL; a channel to each is opened with <paramref name="openChannel"/>.</param>
    public NodeProcesses(IReadOnlyList<string> names, IReadOnlyList<string> clientUrls, Func<string, GrpcChannel> openChannel)
    {
        Names = names;
        processes = new Process?[names.Count];
        channels = clientUrls.Select(openChannel).ToArray();
    }

    public IReadOnlyList<string> Names { get; }

    public int Size => processes.Length;

    public bool IsRunning(int i) => processes[i] is { HasExited: false };

    public IEnumerable<int> Running => Enumerable.Range(0, Size).Where(IsRunning);

    /// <summary>Whether node <paramref name="i"/> was started and has exited without being killed here.</summary>
    public bool HasExited(int i) => processes[i] is { HasExited: true };

    /// <summary>Node <paramref name="i"/>'s exit code once it has exited on its own, else null.</summary>
    public int? ExitCode(int i) => processes[i] is { HasExited: true } process ? process.ExitCode : null;

    /// <summary>Process id of node <paramref name="i"/>, or null when it is not started.</summary>
    public int? Pid(int i) => processes[i]?.Id;

    public GrpcChannel Channel(int i) => channels[i];

    /// <summary>
    /// Starts node <paramref name="i"/> (again) with <paramref name="info"/>, its stdout and stderr redirected: each
    /// line goes to <paramref name="onOutput"/> with "out" or "err", and <paramref name="onExit"/> runs when it exits.
    /// </summary>
    public void Start(int i, ProcessStartInfo info, Action<string, string> onOutput, Action? onExit = null)
    {
        if (IsRunning(i))
        {
            throw new InvalidOperationException($"node {Names[i]} is already running");
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = onExit is not null };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                onOutput("out", line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                onOutput("err", line);
            }
        };
        if (onExit is not null)
        {
            process.Exited += (_, _) => onExit();
        }

        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {info.FileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes[i] = process;
    }

    /// <summary>
    /// SIGKILL to node <paramref name="i"/>'s process, at once: no flush, no goodbye to peers. Waits up to
    /// <paramref name="patience"/> for it to be gone.
    /// </summary>
    /// <remarks>
    /// The process itself, not its tree: a node is one process (`dotnet bulwark.dll` runs the app in the host process;
    /// etcd is one binary), and .NET's tree kill first stops the process, walks every process on the machine for its
    /// children and only then kills. With it, bulwark-compare's failover trials measured etcd's leader "killed" with
    /// writes acknowledged 5 ms later and no gap at all (median 8 ms against 1.3-2.5 s with a plain kill), so the
    /// clock a failover measurement starts at the kill must start at a real SIGKILL.
    /// </remarks>
    public async Task KillAsync(int i, TimeSpan patience)
    {
        if (processes[i] is not { } process)
        {
            return;
        }

        try
        {
            process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        using var wait = new CancellationTokenSource(patience);
        await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        process.Dispose();
        processes[i] = null;
    }

    /// <summary>Status of node <paramref name="i"/>, or null when it is not running or does not answer.</summary>
    public async Task<StatusResponse?> TryStatusAsync(int i)
    {
        if (!IsRunning(i))
        {
            return null;
        }

        try
        {
            var maintenance = new Maintenance.MaintenanceClient(channels[i]);
            return await maintenance.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until every running node names the same leader, one of them and not <paramref name="notLeader"/>;
    /// returns its index. Polls every <paramref name="poll"/>. A node that exits meanwhile ends the wait with
    /// <paramref name="exited"/>'s exception; running out of <paramref name="patience"/> with
    /// <paramref name="timedOut"/>'s, given what the nodes said last ("n1: leader 1f term 3; ...").
    /// </summary>
    public async Task<int> WaitForLeaderAsync(
        TimeSpan patience,
        TimeSpan poll,
        Func<int, Exception> exited,
        Func<string, Exception> timedOut,
        int? notLeader = null)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var statuses = new List<(int Index, StatusResponse Status)>();
            foreach (var i in Running)
            {
                if (await TryStatusAsync(i).ConfigureAwait(false) is { } status)
                {
                    statuses.Add((i, status));
                }
            }

            var running = Running.Count();
            if (statuses.Count == running && running > 0)
            {
                var leaderId = statuses[0].Status.Leader;
                var leader = statuses.FirstOrDefault(s => s.Status.Header.MemberId == leaderId);
                if (leaderId != 0 && statuses.All(s => s.Status.Leader == leaderId) && leader.Status is not null && leader.Index != notLeader)
                {
                    return leader.Index;
                }
            }

            foreach (var i in Enumerable.Range(0, Size).Where(HasExited))
            {
                throw exited(i);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw timedOut(string.Join("; ", statuses.Select(s => $"{Names[s.Index]}: leader {s.Status.Leader:x} term {s.Status.RaftTerm}")));
            }

            await Task.Delay(poll).ConfigureAwait(false);
        }
    }

    /// <summary>Kills every node (best effort: one that will not die does not keep the others alive) and closes the channels.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            try
            {
                await KillAsync(i, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
                // best effort: keep killing the others
            }
        }

        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
