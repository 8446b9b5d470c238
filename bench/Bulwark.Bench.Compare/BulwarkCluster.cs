using System.Diagnostics;
using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>`dotnet bulwark.dll serve` nodes with Bulwark's default settings, unless <see cref="RaftTiming"/> overrides them.</summary>
public sealed class BulwarkCluster(string dotnet, string bulwarkDll, string root, RaftTiming? timing, IReadOnlyDictionary<string, string> environment) : ClusterUnderTest("bulwark", root, 3, timing)
{
    protected override ProcessStartInfo StartInfo(int i)
    {
        var args = new List<string>
        {
            bulwarkDll, "serve",
            "--name", Names[i],
            "--initial-cluster", InitialCluster,
            "--data-dir", DataDir(i),
            "--listen-client-urls", ClientUrls[i],
            "--listen-peer-urls", $"http://127.0.0.1:{PeerPorts[i]}",
            "--listen-metrics-urls", $"http://127.0.0.1:{MetricsPorts[i]}",
        };
        if (Timing is { } t)
        {
            args.AddRange(["--heartbeat-interval", t.HeartbeatMs.ToString(CultureInfo.InvariantCulture),
                "--election-timeout", t.ElectionMs.ToString(CultureInfo.InvariantCulture)]);
        }

        var info = Command(dotnet, args);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
