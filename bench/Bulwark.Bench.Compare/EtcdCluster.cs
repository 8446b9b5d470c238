using System.Diagnostics;
using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>
/// etcd with its default settings (fsync on), unless <see cref="RaftTiming"/> overrides heartbeat and election;
/// <paramref name="extraArgs"/> go to every node (founding or joining), e.g. a --snapshot-count.
/// </summary>
public sealed class EtcdCluster(string etcd, string root, RaftTiming? timing, IReadOnlyList<string>? extraArgs = null, Bulwark.Server.Security.LocalClusterCertificates? tls = null) : ClusterUnderTest("etcd", root, 3, timing, tls)
{
    protected override ProcessStartInfo StartInfo(int i) =>
        Etcd(Names[i], ClientPorts[i], PeerPorts[i], DataDir(i), InitialCluster, "new");

    public override ProcessStartInfo JoinerStartInfo(string name, int clientPort, int peerPort, int metricsPort, string dataDir, string initialCluster) =>
        Etcd(name, clientPort, peerPort, dataDir, initialCluster, "existing");

    private ProcessStartInfo Etcd(string name, int clientPort, int peerPort, string dataDir, string initialCluster, string state)
    {
        var args = new List<string>
        {
            "--name", name,
            "--data-dir", dataDir,
            "--listen-client-urls", $"{Scheme}://127.0.0.1:{clientPort}",
            "--advertise-client-urls", $"{Scheme}://127.0.0.1:{clientPort}",
            "--listen-peer-urls", $"{Scheme}://127.0.0.1:{peerPort}",
            "--initial-advertise-peer-urls", $"{Scheme}://127.0.0.1:{peerPort}",
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", state,
            "--initial-cluster-token", "bench-" + Path.GetFileName(Root),
        };
        if (Timing is { } t)
        {
            args.AddRange(["--heartbeat-interval", t.HeartbeatMs.ToString(CultureInfo.InvariantCulture),
                "--election-timeout", t.ElectionMs.ToString(CultureInfo.InvariantCulture)]);
        }

        args.AddRange(TlsFlags);
        args.AddRange(extraArgs ?? []);
        return Command(etcd, args);
    }
}
