using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// A Bulwark cluster of real `dotnet bulwark.dll serve` child processes on free loopback ports, each with its own
/// temp data dir. A node can be killed with SIGKILL (no clean shutdown) and restarted on the same data dir and ports.
/// Every child's stdout/stderr is kept so a failing test can show it (<see cref="Logs"/>). Disposing kills every
/// child and deletes the data. Starting, killing and leader-waiting are <see cref="NodeProcesses"/>', shared with the
/// benchmark's cluster.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    /// <summary>How long to wait for a leader, convergence or a call; generous because the machine may be loaded.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string root;
    private readonly NodeProcesses nodes;
    private readonly StringBuilder[] output;
    private readonly int[] generation;
    private readonly int[] peerPorts;
    private readonly int[] metricsPorts;
    private readonly IReadOnlyList<string> extraArgs;
    private readonly int founding;
    // A member started with --initial-cluster-state existing keeps its own initial cluster (restarts reuse it).
    private readonly string?[] joinedInitialCluster;

    private readonly Bulwark.Server.Security.LocalClusterCertificates? tls;
    private readonly Bulwark.Server.Security.LocalClusterCertificates?[] certificatesOf;

    private ProcessCluster(int founding, IReadOnlyList<string>? extraArgs, int spare = 0, Bulwark.Server.Security.LocalClusterCertificates? tls = null)
    {
        this.tls = tls;
        certificatesOf = new Bulwark.Server.Security.LocalClusterCertificates?[founding + spare];
        this.founding = founding;
        var size = founding + spare;
        joinedInitialCluster = new string?[size];
        this.extraArgs = extraArgs ?? [];
        root = Path.Combine(Path.GetTempPath(), "bulwark-procs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var ports = LoopbackPorts.Take(size * 3);
        ClientPorts = ports[..size];
        peerPorts = ports[size..(2 * size)];
        metricsPorts = ports[(2 * size)..];
        Names = Enumerable.Range(1, size).Select(i => $"n{i}").ToArray();
        ClientUrls = ClientPorts.Select(p => $"{Scheme}://127.0.0.1:{p}").ToArray();
        ClientTls = tls is null ? null : Bulwark.Server.Security.TlsCredentials.ForClient(tls.CaFile, tls.ClientCertFile, tls.ClientKeyFile);
        nodes = new NodeProcesses(Names, ClientUrls, u => Bulwark.Server.Security.MemberChannels.Create(u, ClientTls));
        output = Enumerable.Range(0, size).Select(_ => new StringBuilder()).ToArray();
        generation = new int[size];
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<int> ClientPorts { get; }

    public IReadOnlyList<string> ClientUrls { get; }

    public IReadOnlyList<string> PeerUrls => peerPorts.Select(p => $"{Scheme}://127.0.0.1:{p}").ToArray();

    /// <summary>With TLS (<see cref="StartAsync"/>'s certificates): what the test's own clients present and trust.</summary>
    public Bulwark.Server.Security.TlsCredentials? ClientTls { get; }

    private string Scheme => tls is null ? "http" : "https";

    /// <summary>Starts node <paramref name="i"/> (from its next start on) with other certificate files than the cluster's.</summary>
    public void UseCertificates(int i, Bulwark.Server.Security.LocalClusterCertificates certificates) => certificatesOf[i] = certificates;

    /// <summary>Each node's admin listener (metrics, health, status page).</summary>
    public IReadOnlyList<string> MetricsUrls => metricsPorts.Select(p => $"http://127.0.0.1:{p}").ToArray();

    /// <summary>Node <paramref name="i"/>'s data dir.</summary>
    public string DataDir(int i) => Path.Combine(root, Names[i]);

    /// <summary>Every slot: the founding members, then the spare ones (<see cref="StartJoining"/>).</summary>
    public int Size => nodes.Size;

    /// <summary>How many members founded the cluster (the first slots); the rest are spares that join later.</summary>
    public int Founding => founding;

    /// <summary>Node <paramref name="i"/>'s initial-cluster entry, "name=peer-url".</summary>
    public string InitialClusterEntry(int i) => $"{Names[i]}={Scheme}://127.0.0.1:{peerPorts[i]}";

    /// <summary>"http://127.0.0.1:p1,http://127.0.0.1:p2,..." as etcdctl and `bulwark --endpoints` take it.</summary>
    public string Endpoints => string.Join(",", ClientUrls);

    /// <summary>The `dotnet` executable running the tests (children use the same runtime).</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Starts every node (with <paramref name="extraArgs"/> added to each `serve`) and waits until they agree on a leader.</summary>
    /// <param name="spare">Slots for members added later (named after the founding ones, ports reserved, not started).</param>
    /// <param name="tls">Serve client and peer ports over mutual TLS with these certificates (https URLs everywhere).</param>
    public static async Task<ProcessCluster> StartAsync(int size = 3, IReadOnlyList<string>? extraArgs = null, int spare = 0,
        Bulwark.Server.Security.LocalClusterCertificates? tls = null)
    {
        var cluster = new ProcessCluster(size, extraArgs, spare, tls);
        try
        {
            for (var i = 0; i < size; i++)
            {
                cluster.Start(i);
            }

            await cluster.WaitForLeaderAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public bool IsRunning(int i) => nodes.IsRunning(i);

    public IEnumerable<int> Running => nodes.Running;

    public KV.KVClient Kv(int i) => new(nodes.Channel(i));

    public Maintenance.MaintenanceClient Maintenance(int i) => new(nodes.Channel(i));

    public Cluster.ClusterClient Cluster(int i) => new(nodes.Channel(i));

    public Watch.WatchClient Watch(int i) => new(nodes.Channel(i));

    public Lease.LeaseClient Lease(int i) => new(nodes.Channel(i));

    /// <summary>
    /// Starts spare node <paramref name="i"/> with --initial-cluster-state existing and <paramref name="initialCluster"/>
    /// (etcd's ETCD_INITIAL_CLUSTER as `member add` prints it: the running members and this one): it joins the cluster it
    /// was added to. Restarting it later (<see cref="Start"/>) reuses the same settings.
    /// </summary>
    public void StartJoining(int i, string initialCluster)
    {
        joinedInitialCluster[i] = initialCluster;
        Start(i);
    }

    /// <summary>
    /// Starts node <paramref name="i"/> (again) on its data dir and ports, with the cluster's extra `serve` arguments or,
    /// when given, <paramref name="replaceExtraArgs"/> instead (a restart without a test-only option, say).
    /// </summary>
    public void Start(int i, IReadOnlyList<string>? replaceExtraArgs = null)
    {
        if (i >= founding && joinedInitialCluster[i] is null)
        {
            throw new InvalidOperationException($"{Names[i]} is a spare member: add it to the cluster and start it with StartJoining");
        }

        var initialCluster = joinedInitialCluster[i] ?? string.Join(",", Enumerable.Range(0, founding).Select(InitialClusterEntry));
        var info = new ProcessStartInfo(DotnetHost) { RedirectStandardInput = true };
        foreach (var arg in new[]
        {
            BulwarkDll, "serve",
            "--name", Names[i],
            "--initial-cluster", initialCluster,
            "--data-dir", Path.Combine(root, Names[i]),
            "--listen-client-urls", ClientUrls[i],
            "--listen-peer-urls", $"{Scheme}://127.0.0.1:{peerPorts[i]}",
            "--listen-metrics-urls", $"http://127.0.0.1:{metricsPorts[i]}",
            // A loaded CI machine can stall a process for longer than the LAN defaults allow; slower ticks avoid
            // needless elections without changing what is tested.
            "--heartbeat-interval", "100",
            "--election-timeout", "1000",
        }.Concat(joinedInitialCluster[i] is null ? [] : ["--initial-cluster-state", "existing"]).Concat(TlsArgs(i)).Concat(replaceExtraArgs ?? extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        var gen = generation[i] + 1;
        var log = output[i];
        nodes.Start(i, info, (stream, line) => Append(log, gen, stream, line), () => Append(log, gen, "exit", "process exited"));
        generation[i] = gen;
    }

    private IEnumerable<string> TlsArgs(int i) => (certificatesOf[i] ?? tls) is not { } c ? [] :
    [
        "--cert-file", c.ServerCertFile, "--key-file", c.ServerKeyFile, "--trusted-ca-file", c.CaFile, "--client-cert-auth",
        "--peer-cert-file", c.PeerCertFile, "--peer-key-file", c.PeerKeyFile, "--peer-trusted-ca-file", c.CaFile, "--peer-client-cert-auth",
    ];

    /// <summary>Kills node <paramref name="i"/> (and anything it started) with SIGKILL: no flush, no goodbye to peers.</summary>
    public Task KillAsync(int i) => nodes.KillAsync(i, Patience);

    /// <summary>
    /// Waits until node <paramref name="i"/>'s process exits on its own (e.g. removed from the cluster) and returns its exit
    /// code; the slot is then free (not running, not counted as exited by <see cref="WaitForLeaderAsync"/>).
    /// </summary>
    public async Task<int> WaitForExitAsync(int i)
    {
        var code = await Eventually.ValueAsync(() => Task.FromResult(nodes.ExitCode(i) is { } c ? (object)c : null), $"{Names[i]} to exit", Patience, diagnostics: Logs)
            .ConfigureAwait(false);
        await nodes.KillAsync(i, Patience).ConfigureAwait(false);
        return (int)code;
    }

    /// <summary>Status of node <paramref name="i"/>, or null when it is not running or does not answer.</summary>
    public Task<StatusResponse?> TryStatusAsync(int i) => nodes.TryStatusAsync(i);

    /// <summary>Waits until every running node (other than <paramref name="notLeader"/>) names the same leader, one of them; returns its index.</summary>
    public Task<int> WaitForLeaderAsync(int? notLeader = null) => nodes.WaitForLeaderAsync(
        Patience,
        TimeSpan.FromMilliseconds(100),
        i => new InvalidOperationException($"node {Names[i]} exited while waiting for a leader.{Environment.NewLine}{Logs()}"),
        seen => new TimeoutException($"no agreed leader after {Patience.TotalSeconds} s ({seen}).{Environment.NewLine}{Logs()}"),
        notLeader);

    /// <summary>Waits until every running node has applied at least <paramref name="index"/> entries.</summary>
    public async Task WaitForAppliedAsync(ulong index)
    {
        var behind = new List<string>();
        await Eventually.TrueAsync(
            async () =>
            {
                behind.Clear();
                foreach (var i in Running)
                {
                    var status = await TryStatusAsync(i).ConfigureAwait(false);
                    if (status is null || status.RaftAppliedIndex < index)
                    {
                        behind.Add($"{Names[i]} at {status?.RaftAppliedIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer"}");
                    }
                }

                return behind.Count == 0;
            },
            $"every running node to apply index {index}",
            Patience,
            diagnostics: () => $"behind: {string.Join(", ", behind)}{Environment.NewLine}{Logs()}").ConfigureAwait(false);
    }

    /// <summary>Process id of node <paramref name="i"/>'s current run, or null when it was never started.</summary>
    public int? Pid(int i) => nodes.Pid(i);

    /// <summary>The lines node <paramref name="i"/>'s current run has written to stdout so far (its log lines).</summary>
    public IReadOnlyList<string> StandardOutput(int i)
    {
        var prefix = $"[{generation[i]} out] ";
        lock (output[i])
        {
            return output[i].ToString().Split(Environment.NewLine)
                .Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
                .Select(l => l[prefix.Length..])
                .ToList();
        }
    }

    /// <summary>Every child's output so far, labelled by node and run.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Size; i++)
        {
            lock (output[i])
            {
                text.AppendLine($"===== {Names[i]} ({ClientUrls[i]}) =====");
                var log = output[i].ToString();
                // The tail is what explains a failure; keep the report readable.
                text.AppendLine(log.Length > 20_000 ? "..." + log[^20_000..] : log);
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await nodes.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // a temp dir left behind is harmless
        }
    }

    /// <summary>The built CLI: next to the tests (the test project references it) or in the CLI project's own output.</summary>
    public static string BulwarkDll { get; } = FindBulwarkDll();

    private static string FindBulwarkDll()
    {
        var baseDir = AppContext.BaseDirectory;
        var configuration = new DirectoryInfo(baseDir).Parent?.Name ?? "Release";
        for (var dir = new DirectoryInfo(baseDir); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                var cli = Path.Combine(dir.FullName, "src", "Bulwark.Cli", "bin", configuration, "net10.0", "bulwark.dll");
                if (File.Exists(cli))
                {
                    return cli;
                }

                break;
            }
        }

        var local = Path.Combine(baseDir, "bulwark.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(baseDir, "bulwark.runtimeconfig.json")))
        {
            return local;
        }

        throw new FileNotFoundException($"bulwark.dll not found (looked in src/Bulwark.Cli/bin/{configuration}/net10.0 and {baseDir}); build src/Bulwark.Cli first");
    }

    private static void Append(StringBuilder log, int gen, string stream, string line)
    {
        lock (log)
        {
            log.Append('[').Append(gen).Append(' ').Append(stream).Append("] ").AppendLine(line);
        }
    }

}
