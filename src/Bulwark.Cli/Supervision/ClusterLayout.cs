using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Hosting;
using Bulwark.Server.Security;

namespace Bulwark.Cli.Supervision;

/// <summary>Where one member of a local cluster listens and keeps its data.</summary>
/// <param name="Tls">Client and peer URLs are https (the metrics URL stays http, as etcd's).</param>
public sealed record LocalMember(string Name, int ClientPort, int PeerPort, int MetricsPort, string DataDir, bool Tls = false)
{
    public string ClientUrl => $"{Scheme}://127.0.0.1:{ClientPort}";

    public string PeerUrl => $"{Scheme}://127.0.0.1:{PeerPort}";

    private string Scheme => Tls ? "https" : "http";

    public string MetricsUrl => $"http://127.0.0.1:{MetricsPort}";
}

/// <summary>
/// The members of a loopback cluster started by `bulwark cluster up`: by default etcd's local-cluster ports
/// (clients 2379/22379/32379, peers 2380/22380/32380, metrics 2381/22381/32381), or consecutive ports from a base.
/// </summary>
/// <param name="Certificates">With TLS: the certificate files every member uses (client and peer TLS, both mutual).</param>
public sealed record ClusterLayout(IReadOnlyList<LocalMember> Members, LocalClusterCertificates? Certificates = null)
{
    public const int DefaultSize = 3;

    public static ClusterLayout Default(string dataRoot, int size = DefaultSize) => new(
        Enumerable.Range(0, CheckSize(size)).Select(i =>
        {
            var prefix = i == 0 ? 0 : i * 10_000 + 20_000 - 10_000; // 2379, 22379, 32379, 42379, 52379
            return Member(i, prefix + 2379, prefix + 2380, prefix + 2381, dataRoot);
        }).ToList());

    /// <summary>Member i uses base+3i (client), base+3i+1 (peer), base+3i+2 (metrics). Base 0 picks free ports.</summary>
    public static ClusterLayout FromBasePort(int basePort, string dataRoot, int size = DefaultSize)
    {
        CheckSize(size);
        if (basePort == 0)
        {
            var ports = LoopbackPorts.Take(3 * size);
            return new(Enumerable.Range(0, size).Select(i => Member(i, ports[3 * i], ports[3 * i + 1], ports[3 * i + 2], dataRoot)).ToList());
        }

        if (basePort < 1024 || basePort + 3 * size - 1 > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(basePort), basePort, $"--base-port must be 0 (pick free ports) or in 1024..{65535 - 3 * size + 1}");
        }

        return new(Enumerable.Range(0, size).Select(i => Member(i, basePort + 3 * i, basePort + 3 * i + 1, basePort + 3 * i + 2, dataRoot)).ToList());
    }

    /// <summary>The --initial-cluster value every member gets.</summary>
    public string InitialCluster => string.Join(',', Members.Select(m => $"{m.Name}={m.PeerUrl}"));

    public string ClientEndpoints => string.Join(',', Members.Select(m => Certificates is null ? $"127.0.0.1:{m.ClientPort}" : m.ClientUrl));

    /// <summary>This layout with https client and peer URLs and mutual TLS on both, from <paramref name="certificates"/>.</summary>
    public ClusterLayout WithTls(LocalClusterCertificates certificates) =>
        new(Members.Select(m => m with { Tls = true }).ToList(), certificates);

    /// <summary>The arguments of `bulwark serve` for one member.</summary>
    public IReadOnlyList<string> ServeArguments(LocalMember member)
    {
        List<string> args =
        [
            "serve",
            "--name", member.Name,
            "--initial-cluster", InitialCluster,
            "--data-dir", member.DataDir,
            "--listen-client-urls", member.ClientUrl,
            "--listen-peer-urls", member.PeerUrl,
            "--listen-metrics-urls", member.MetricsUrl,
        ];
        if (Certificates is { } tls)
        {
            args.AddRange(
            [
                "--cert-file", tls.ServerCertFile, "--key-file", tls.ServerKeyFile, "--trusted-ca-file", tls.CaFile, "--client-cert-auth", "true",
                "--peer-cert-file", tls.PeerCertFile, "--peer-key-file", tls.PeerKeyFile, "--peer-trusted-ca-file", tls.CaFile, "--peer-client-cert-auth", "true",
            ]);
        }

        return args;
    }

    private static int CheckSize(int size) =>
        size is >= 1 and <= 5 ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "a local cluster has 1 to 5 members");

    private static LocalMember Member(int index, int client, int peer, int metrics, string dataRoot)
    {
        var name = $"n{index + 1}";
        return new LocalMember(name, client, peer, metrics, Path.Combine(dataRoot, name));
    }

}
