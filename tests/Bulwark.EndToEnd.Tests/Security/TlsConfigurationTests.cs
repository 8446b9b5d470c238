using Bulwark.EndToEnd.Tests.Cli;
using Bulwark.Server.Hosting;
using Bulwark.Server.Security;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>
/// `bulwark serve` refuses every broken TLS setup at start, before it binds a port or touches the data dir: exit code 2
/// and a message that names the flag and the file or URL at fault.
/// </summary>
public sealed class TlsConfigurationTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "bulwark-tlsconf-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp dir is harmless
        }
    }

    [Fact]
    public async Task EveryBrokenTlsSetupIsRefusedAtStartWithAMessageNamingTheSettingAndTheFile()
    {
        var good = new LocalClusterCertificates(Path.Combine(root, "good")).Generate();
        var other = new LocalClusterCertificates(Path.Combine(root, "other")).Generate();
        var garbage = Path.Combine(root, "garbage.pem");
        await File.WriteAllTextAsync(garbage, "this is not a certificate\n");
        var ports = LoopbackPorts.Take(3);
        var https = $"https://127.0.0.1:{ports[0]}";
        var http = $"http://127.0.0.1:{ports[0]}";
        var peerHttps = $"https://127.0.0.1:{ports[1]}";
        var peerHttp = $"http://127.0.0.1:{ports[1]}";
        var metrics = $"http://127.0.0.1:{ports[2]}";
        string[] clientCert = ["--cert-file", good.ServerCertFile, "--key-file", good.ServerKeyFile];
        string[] peerCert = ["--peer-cert-file", good.PeerCertFile, "--peer-key-file", good.PeerKeyFile];

        (string[] Args, string Expected)[] catalogue =
        [
            ([.. Client(https), .. Peer(peerHttp)], $"--cert-file: client URL {https} is https, so --cert-file and --key-file are required"),
            ([.. Client(http), .. Peer(peerHttps)], $"--peer-cert-file: peer URL {peerHttps} is https, so --peer-cert-file and --peer-key-file are required"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", Path.Combine(root, "absent.crt"), "--key-file", good.ServerKeyFile],
                $"--cert-file: certificate file '{Path.Combine(root, "absent.crt")}' does not exist"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", good.ServerCertFile, "--key-file", root],
                $"--key-file: cannot read key file '{root}'"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", good.ServerCertFile, "--key-file", other.ServerKeyFile],
                $"--key-file: key file '{other.ServerKeyFile}' does not match the certificate in '{good.ServerCertFile}'"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", garbage, "--key-file", good.ServerKeyFile],
                $"--cert-file: certificate file '{garbage}' holds no PEM certificate"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", good.ServerCertFile, "--key-file", garbage],
                $"--key-file: key file '{garbage}' holds no PEM private key"),
            ([.. Client(https), .. Peer(peerHttp), .. clientCert, "--trusted-ca-file", garbage], $"--trusted-ca-file: trusted CA file '{garbage}' holds no PEM certificate"),
            ([.. Client(https), .. Peer(peerHttp), .. clientCert, "--client-cert-auth"], "--client-cert-auth: needs --trusted-ca-file"),
            ([.. Client(https), .. Peer(peerHttp), "--cert-file", good.ServerCertFile], "--key-file: --cert-file and --key-file go together; only one is given"),
            ([.. Client(http), .. Peer(peerHttp), .. clientCert], $"--listen-client-urls: --cert-file is set but no client URL is https ({http})"),
            ([.. Client(http), .. Peer(peerHttp), .. peerCert], $"--listen-peer-urls: --peer-cert-file is set but the peer URL {peerHttp} is http"),
            ([.. Client(http), "--name", "n1", "--listen-peer-urls", peerHttps, "--initial-cluster", $"n1={peerHttps},n2=http://127.0.0.1:1", .. peerCert],
                "--initial-cluster: peer URL http://127.0.0.1:1 of 'n2' and this member's"),
            ([.. Client(http), .. Peer(peerHttp), "--listen-metrics-urls", $"https://127.0.0.1:{ports[2]}"], "uses scheme 'https'; only http is supported"),
        ];

        foreach (var (args, expected) in catalogue)
        {
            var dataDir = Path.Combine(root, "data-" + Guid.NewGuid().ToString("N")[..8]);
            string[] command = ["serve", "--data-dir", dataDir, .. args];
            if (!args.Contains("--listen-metrics-urls"))
            {
                command = [.. command, "--listen-metrics-urls", metrics];
            }

            var (code, output, error) = await BulwarkProcess.RunAsync(null, command);
            var printed = System.Text.Encoding.UTF8.GetString(output) + error;
            Assert.True(code == 2, $"bulwark {string.Join(' ', command)} exited {code}, not 2: {printed}");
            Assert.Contains(expected, error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(dataDir), $"a refused start created its data dir: {string.Join(' ', command)}");
        }

        string[] Client(string url) => ["--listen-client-urls", url];

        string[] Peer(string url) => ["--name", "n1", "--listen-peer-urls", url, "--initial-cluster", $"n1={url}"];
    }
}
