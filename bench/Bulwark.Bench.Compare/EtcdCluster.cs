using System.Diagnostics;

namespace Bulwark.Bench.Compare;

/// <summary>etcd with its default settings (fsync on), unless <see cref="RaftTiming"/> overrides heartbeat and election.</summary>
public sealed class EtcdCluster(string etcd, string root, RaftTiming? timing) : ClusterUnderTest("etcd", root, 3, timing)
{
    protected override ProcessStartInfo StartInfo(int i)
    {
        var args = new List<string>
        {
            "--name", Names[i],
            "--data-dir", DataDir(i),
            "--listen-client-urls", ClientUrls[i],
            "--advertise-client-urls", ClientUrls[i],
            "--listen-peer-urls", $"http://127.0.0.1:{PeerPorts[i]}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{PeerPorts[i]}",
            "--initial-cluster", InitialCluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", "bench-" + Path.GetFileName(Root),
        };
        if (Timing is { } t)
        {
            args.AddRange(["--heartbeat-interval", t.HeartbeatMs.ToString(global::System.Globalization.CultureInfo.InvariantCulture),
                "--election-timeout", t.ElectionMs.ToString(global::System.Globalization.CultureInfo.InvariantCulture)]);
        }

        return Command(etcd, args);
    }
}
