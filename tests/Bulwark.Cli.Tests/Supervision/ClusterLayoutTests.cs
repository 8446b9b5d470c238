using Bulwark.Cli.Supervision;
using Bulwark.Server.Configuration;

namespace Bulwark.Cli.Tests.Supervision;

public sealed class ClusterLayoutTests
{
    [Fact]
    public void Default_layout_uses_etcds_local_cluster_ports()
    {
        var layout = ClusterLayout.Default("/data");
        Assert.Equal([2379, 22379, 32379], layout.Members.Select(m => m.ClientPort));
        Assert.Equal([2380, 22380, 32380], layout.Members.Select(m => m.PeerPort));
        Assert.Equal([2381, 22381, 32381], layout.Members.Select(m => m.MetricsPort));
        Assert.Equal(["n1", "n2", "n3"], layout.Members.Select(m => m.Name));
        Assert.Equal(Path.Combine("/data", "n2"), layout.Members[1].DataDir);
        Assert.Equal("127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379", layout.ClientEndpoints);
    }

    [Fact]
    public void Base_port_lays_members_out_consecutively_and_zero_picks_distinct_free_ports()
    {
        var layout = ClusterLayout.FromBasePort(40000, "/d");
        Assert.Equal([40000, 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008],
            layout.Members.SelectMany(m => new[] { m.ClientPort, m.PeerPort, m.MetricsPort }));
        var free = ClusterLayout.FromBasePort(0, "/d").Members.SelectMany(m => new[] { m.ClientPort, m.PeerPort, m.MetricsPort }).ToList();
        Assert.Equal(9, free.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => ClusterLayout.FromBasePort(80, "/d"));
    }

    [Fact]
    public void Serve_arguments_are_a_valid_node_configuration_for_every_member()
    {
        var layout = ClusterLayout.FromBasePort(41000, "/d");
        var ids = new HashSet<ulong>();
        ulong? clusterId = null;
        foreach (var member in layout.Members)
        {
            var args = layout.ServeArguments(member);
            Assert.Equal("serve", args[0]);
            var options = NodeConfigurationLoader.Load(args.Skip(1).ToList(), new Dictionary<string, string>(), _ => throw new FileNotFoundException());
            Assert.Equal(member.Name, options.Name);
            Assert.Equal(member.PeerUrl, options.ListenPeerUrl);
            Assert.Equal([member.ClientUrl], options.ListenClientUrls);
            Assert.Equal(member.DataDir, options.DataDir);
            Assert.True(ids.Add(options.NodeId));
            clusterId ??= options.ClusterId;
            Assert.Equal(clusterId, options.ClusterId);
        }
    }

    [Fact]
    public void With_tls_every_member_gets_https_urls_and_mutual_tls_on_generated_certificates_that_load()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bulwark-layout-tls-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var certificates = new Bulwark.Server.Security.LocalClusterCertificates(dir).Generate();
            Assert.True(certificates.Exist);
            var layout = ClusterLayout.FromBasePort(42000, "/d").WithTls(certificates);
            Assert.Equal("https://127.0.0.1:42000,https://127.0.0.1:42003,https://127.0.0.1:42006", layout.ClientEndpoints);
            foreach (var member in layout.Members)
            {
                var options = NodeConfigurationLoader.Load(layout.ServeArguments(member).Skip(1).ToList(), new Dictionary<string, string>(), _ => throw new FileNotFoundException());
                Assert.Equal([$"https://127.0.0.1:{member.ClientPort}"], options.ListenClientUrls);
                Assert.Equal($"https://127.0.0.1:{member.PeerPort}", options.ListenPeerUrl);
                Assert.Equal($"http://127.0.0.1:{member.MetricsPort}", options.ListenMetricsUrl);
                Assert.Equal(new Bulwark.Server.Security.TlsFiles(certificates.ServerCertFile, certificates.ServerKeyFile, certificates.CaFile, ClientCertAuth: true), options.ClientTls);
                Assert.Equal(new Bulwark.Server.Security.TlsFiles(certificates.PeerCertFile, certificates.PeerKeyFile, certificates.CaFile, ClientCertAuth: true), options.PeerTls);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
