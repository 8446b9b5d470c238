using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Bench.Compare;

/// <summary>
/// A 3-node cluster of real processes on loopback ports with data dirs under one root: etcd or Bulwark. Nodes can be
/// killed with SIGKILL and restarted on the same data and ports. Disposing kills every node and deletes the data.
/// </summary>
public abstract class ClusterUnderTest : IAsyncDisposable
{
    private readonly Process?[] processes;
    private readonly GrpcChannel[] channels;

    protected ClusterUnderTest(string system, string root, int size, RaftTiming? timing)
    {
        System = system;
        Timing = timing;
        Root = Path.Combine(root, system + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
        var ports = LoopbackPorts.Take(size * 3);
        ClientPorts = ports[..size];
        PeerPorts = ports[size..(2 * size)];
        MetricsPorts = ports[(2 * size)..];
        Names = Enumerable.Range(1, size).Select(i => $"n{i}").ToArray();
        ClientUrls = ClientPorts.Select(p => $"http://127.0.0.1:{p}").ToArray();
        processes = new Process?[size];
        channels = ClientUrls.Select(LoadRunner.CreateChannel).ToArray();
    }

    /// <summary>"etcd" or "bulwark".</summary>
    public string System { get; }

    public RaftTiming? Timing { get; }

    public string Root { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<int> ClientPorts { get; }

    public IReadOnlyList<int> PeerPorts { get; }

    public IReadOnlyList<int> MetricsPorts { get; }

    public IReadOnlyList<string> ClientUrls { get; }

    public int Size => processes.Length;

    public string DataDir(int i) => Path.Combine(Root, Names[i]);

    public string LogFile(int i) => Path.Combine(Root, Names[i] + ".log");

    public bool IsRunning(int i) => processes[i] is { HasExited: false };

    /// <summary>Process ids of the running nodes.</summary>
    public IReadOnlyList<int> Pids => Enumerable.Range(0, Size).Where(IsRunning).Select(i => processes[i]!.Id).ToArray();

    public int Pid(int i) => processes[i]?.Id ?? throw new InvalidOperationException($"{System} {Names[i]} is not running");

    public KV.KVClient Kv(int i) => new(channels[i]);

    public GrpcChannel Channel(int i) => channels[i];

    protected abstract ProcessStartInfo StartInfo(int i);

    /// <summary>Starts every node and waits for an agreed leader.</summary>
    public async Task StartAsync(TimeSpan patience)
    {
        for (var i = 0; i < Size; i++)
        {
            Start(i);
        }

        await WaitForLeaderAsync(patience).ConfigureAwait(false);
    }

    /// <summary>Starts node <paramref name="i"/> (again), appending its output to its log file.</summary>
    public void Start(int i)
    {
        if (IsRunning(i))
        {
            throw new InvalidOperationException($"{System} {Names[i]} is already running");
        }

        var info = StartInfo(i);
        // Like a service whose working directory is its state directory (what a systemd unit or container sets).
        // It matters to Bulwark: its ASP.NET Core hosts watch the working directory recursively for config changes.
        Directory.CreateDirectory(DataDir(i));
        info.WorkingDirectory = DataDir(i);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info };
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {info.FileName}");
        }

        var log = new StreamWriter(LogFile(i), append: true) { AutoFlush = true };
        var gate = new object();
        void Write(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                log.WriteLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes[i] = process;
    }

    /// <summary>SIGKILL: no flush, no goodbye.</summary>
    public async Task KillAsync(int i)
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
            // already gone
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        process.Dispose();
        processes[i] = null;
    }

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

    /// <summary>Waits until every running node names the same leader among them; returns its index.</summary>
    public async Task<int> WaitForLeaderAsync(TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var statuses = new List<(int Index, StatusResponse Status)>();
            foreach (var i in Enumerable.Range(0, Size).Where(IsRunning))
            {
                if (await TryStatusAsync(i).ConfigureAwait(false) is { } s)
                {
                    statuses.Add((i, s));
                }
            }

            var running = Enumerable.Range(0, Size).Count(IsRunning);
            if (statuses.Count == running && running > 0)
            {
                var leaderId = statuses[0].Status.Leader;
                var leader = statuses.FirstOrDefault(s => s.Status.Header.MemberId == leaderId);
                if (leaderId != 0 && statuses.All(s => s.Status.Leader == leaderId) && leader.Status is not null)
                {
                    return leader.Index;
                }
            }

            for (var i = 0; i < Size; i++)
            {
                if (processes[i] is { HasExited: true })
                {
                    throw new InvalidOperationException($"{System} {Names[i]} exited; see {LogFile(i)}");
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{System}: no agreed leader after {patience.TotalSeconds} s; logs in {Root}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every running node has applied what the leader had applied when this was called.</summary>
    public async Task WaitForCatchUpAsync(TimeSpan patience)
    {
        var leader = await WaitForLeaderAsync(patience).ConfigureAwait(false);
        var target = (await TryStatusAsync(leader).ConfigureAwait(false))?.RaftAppliedIndex ?? 0;
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var behind = false;
            foreach (var i in Enumerable.Range(0, Size).Where(IsRunning))
            {
                if ((await TryStatusAsync(i).ConfigureAwait(false))?.RaftAppliedIndex is not { } applied || applied < target)
                {
                    behind = true;
                }
            }

            if (!behind)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{System}: nodes did not catch up to applied index {target}; logs in {Root}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            try
            {
                await KillAsync(i).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or global::System.ComponentModel.Win32Exception)
            {
                // best effort: keep killing the others
            }
        }

        foreach (var channel in channels)
        {
            channel.Dispose();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp dir is harmless
        }

        GC.SuppressFinalize(this);
    }

    protected string InitialCluster => string.Join(",", Enumerable.Range(0, Size).Select(j => $"{Names[j]}=http://127.0.0.1:{PeerPorts[j]}"));

    protected static ProcessStartInfo Command(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return info;
    }

}
