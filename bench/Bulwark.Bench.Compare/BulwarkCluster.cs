using System.Diagnostics;
using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>
/// `dotnet bulwark.dll serve` nodes with Bulwark's default settings, unless <see cref="RaftTiming"/> overrides them;
/// <paramref name="extraArgs"/> go to every node (founding or joining), e.g. a --snapshot-count.
/// </summary>
public sealed class BulwarkCluster(string dotnet, string bulwarkDll, string root, RaftTiming? timing, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string>? extraArgs = null, Bulwark.Server.Security.LocalClusterCertificates? tls = null) : ClusterUnderTest("bulwark", root, 3, timing, tls)
{
    protected override ProcessStartInfo StartInfo(int i) =>
        Serve(Names[i], ClientPorts[i], PeerPorts[i], MetricsPorts[i], DataDir(i), InitialCluster, []);

    public override ProcessStartInfo JoinerStartInfo(string name, int clientPort, int peerPort, int metricsPort, string dataDir, string initialCluster) =>
        Serve(name, clientPort, peerPort, metricsPort, dataDir, initialCluster, ["--initial-cluster-state", "existing"]);

    private ProcessStartInfo Serve(string name, int clientPort, int peerPort, int metricsPort, string dataDir, string initialCluster, IEnumerable<string> more)
    {
        var args = new List<string>
        {
            bulwarkDll, "serve",
            "--name", name,
            "--initial-cluster", initialCluster,
            "--data-dir", dataDir,
            "--listen-client-urls", $"{Scheme}://127.0.0.1:{clientPort}",
            "--listen-peer-urls", $"{Scheme}://127.0.0.1:{peerPort}",
            "--listen-metrics-urls", $"http://127.0.0.1:{metricsPort}",
        };
        if (Timing is { } t)
        {
            args.AddRange(["--heartbeat-interval", t.HeartbeatMs.ToString(CultureInfo.InvariantCulture),
                "--election-timeout", t.ElectionMs.ToString(CultureInfo.InvariantCulture)]);
        }

        args.AddRange(more);
        args.AddRange(TlsFlags);
        args.AddRange(extraArgs ?? []);
        var info = Command(dotnet, args);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
