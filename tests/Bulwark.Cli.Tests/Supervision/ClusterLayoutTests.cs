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
}
