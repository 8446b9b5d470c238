using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Bench.Compare;

/// <summary>
/// A 3-node cluster of real processes on loopback ports with data dirs under one root: etcd or Bulwark. Nodes can be
/// killed with SIGKILL and restarted on the same data and ports. Disposing kills every node and deletes the data.
/// Starting, killing and leader-waiting are <see cref="NodeProcesses"/>', shared with the end-to-end tests' cluster;
/// what is the benchmark's own is the command line (etcd or Bulwark) and the per-node log files.
/// </summary>
public abstract class ClusterUnderTest : IAsyncDisposable
{
    private readonly NodeProcesses nodes;

    /// <param name="tls">Serve client and peer ports over mutual TLS with these certificates (https URLs).</param>
    protected ClusterUnderTest(string system, string root, int size, RaftTiming? timing, Bulwark.Server.Security.LocalClusterCertificates? tls = null)
    {
        Tls = tls;
        if (tls is not null)
        {
            TrustedCa = Bulwark.Server.Security.CertificateFiles.LoadBundle(tls.CaFile);
            ClientCertificate = Bulwark.Server.Security.CertificateFiles.LoadPair(tls.ClientCertFile, tls.ClientKeyFile);
        }

        System = system;
        Timing = timing;
        Root = Path.Combine(root, system + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
        var ports = LoopbackPorts.Take(size * 3);
        ClientPorts = ports[..size];
        PeerPorts = ports[size..(2 * size)];
        MetricsPorts = ports[(2 * size)..];
        Names = Enumerable.Range(1, size).Select(i => $"n{i}").ToArray();
        ClientUrls = ClientPorts.Select(p => $"{Scheme}://127.0.0.1:{p}").ToArray();
        nodes = new NodeProcesses(Names, ClientUrls, u => LoadRunner.CreateChannel(u, TrustedCa, ClientCertificate));
    }

    /// <summary>The certificates of a TLS cluster; null: plain text.</summary>
    public Bulwark.Server.Security.LocalClusterCertificates? Tls { get; }

    /// <summary>What the load generator trusts and presents on a TLS cluster.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedCa { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; }

    protected string Scheme => Tls is null ? "http" : "https";

    /// <summary>etcd's TLS flags (Bulwark takes the same names) for client and peer ports, both mutual.</summary>
    protected IEnumerable<string> TlsFlags => Tls is not { } c ? [] :
    [
        "--cert-file", c.ServerCertFile, "--key-file", c.ServerKeyFile, "--trusted-ca-file", c.CaFile, "--client-cert-auth=true",
        "--peer-cert-file", c.PeerCertFile, "--peer-key-file", c.PeerKeyFile, "--peer-trusted-ca-file", c.CaFile, "--peer-client-cert-auth=true",
    ];

    /// <summary>"etcd" or "bulwark".</summary>
    public string System { get; }

    public RaftTiming? Timing { get; }

    public string Root { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<int> ClientPorts { get; }

    public IReadOnlyList<int> PeerPorts { get; }

    public IReadOnlyList<int> MetricsPorts { get; }

    public IReadOnlyList<string> ClientUrls { get; }

    public int Size => nodes.Size;

    public string DataDir(int i) => Path.Combine(Root, Names[i]);

    public string LogFile(int i) => Path.Combine(Root, Names[i] + ".log");

    public bool IsRunning(int i) => nodes.IsRunning(i);

    /// <summary>Process ids of the running nodes.</summary>
    public IReadOnlyList<int> Pids => nodes.Running.Select(i => nodes.Pid(i)!.Value).ToArray();

    /// <summary>The process id of node <paramref name="i"/> (running).</summary>
    public int PidOf(int i) => nodes.Pid(i) ?? throw new InvalidOperationException($"{Names[i]} is not running");

    public int Pid(int i) => nodes.Pid(i) ?? throw new InvalidOperationException($"{System} {Names[i]} is not running");

    public KV.KVClient Kv(int i) => new(nodes.Channel(i));

    public GrpcChannel Channel(int i) => nodes.Channel(i);

    protected abstract ProcessStartInfo StartInfo(int i);

    /// <summary>
    /// The command line of a member that joins this running cluster after `member add` (initial cluster state
    /// "existing"): <paramref name="name"/> on the given ports with its data in <paramref name="dataDir"/>, told the
    /// founding members plus itself as <paramref name="initialCluster"/>.
    /// </summary>
    public abstract ProcessStartInfo JoinerStartInfo(string name, int clientPort, int peerPort, int metricsPort, string dataDir, string initialCluster);

    /// <summary>The founding members as name=peer-url,... (the --initial-cluster they were started with).</summary>
    public string FoundingCluster => InitialCluster;

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
        var log = new StreamWriter(LogFile(i), append: true) { AutoFlush = true };
        var gate = new object();
        nodes.Start(i, info, (_, line) =>
        {
            lock (gate)
            {
                log.WriteLine(line);
            }
        });
    }

    /// <summary>SIGKILL to the node process: no flush, no goodbye.</summary>
    public Task KillAsync(int i) => nodes.KillAsync(i, TimeSpan.FromSeconds(30));

    public Task<StatusResponse?> TryStatusAsync(int i) => nodes.TryStatusAsync(i);

    /// <summary>Waits until every running node names the same leader among them; returns its index.</summary>
    public Task<int> WaitForLeaderAsync(TimeSpan patience) => nodes.WaitForLeaderAsync(
        patience,
        TimeSpan.FromMilliseconds(50),
        i => new InvalidOperationException($"{System} {Names[i]} exited; see {LogFile(i)}"),
        _ => new TimeoutException($"{System}: no agreed leader after {patience.TotalSeconds} s; logs in {Root}"));

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
        await nodes.DisposeAsync().ConfigureAwait(false);
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

    protected string InitialCluster => string.Join(",", Enumerable.Range(0, Size).Select(j => $"{Names[j]}={Scheme}://127.0.0.1:{PeerPorts[j]}"));

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
