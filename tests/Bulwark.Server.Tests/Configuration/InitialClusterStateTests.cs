using Bulwark.Server.Configuration;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Configuration;

/// <summary>etcd's --initial-cluster-state (flag, BULWARK_INITIAL_CLUSTER_STATE, config key) and what a joined member's options become.</summary>
public sealed class InitialClusterStateTests
{
    private const string Cluster = "n1=http://127.0.0.1:2380,n4=http://127.0.0.1:2480";

    private static NodeOptions Load(string[] args, Dictionary<string, string>? env = null, Dictionary<string, string>? files = null) =>
        NodeConfigurationLoader.Load(args, env ?? [], path => files is not null && files.TryGetValue(path, out var text) ? text : throw new FileNotFoundException(path));

    [Fact]
    public void New_by_default_existing_from_flag_environment_or_file()
    {
        Assert.Equal(InitialClusterState.New, Load(["--name", "n4", "--initial-cluster", Cluster]).InitialClusterState);
        Assert.Equal(InitialClusterState.Existing, Load(["--name", "n4", "--initial-cluster", Cluster, "--initial-cluster-state", "existing"]).InitialClusterState);
        Assert.Equal(InitialClusterState.Existing, Load(["--name", "n4", "--initial-cluster", Cluster], new() { ["BULWARK_INITIAL_CLUSTER_STATE"] = "existing" }).InitialClusterState);
        Assert.Equal(InitialClusterState.Existing, Load(["--name", "n4", "--initial-cluster", Cluster, "--config-file", "c.json"], files: new() { ["c.json"] = """{"initial-cluster-state": "existing"}""" }).InitialClusterState);
        Assert.Equal(InitialClusterState.New, Load(["--name", "n4", "--initial-cluster", Cluster, "--initial-cluster-state=new"], new() { ["BULWARK_INITIAL_CLUSTER_STATE"] = "existing" }).InitialClusterState);
    }

    [Fact]
    public void Another_value_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(["--name", "n4", "--initial-cluster", Cluster, "--initial-cluster-state", "joining"]));
        Assert.Contains("initial-cluster-state", error.Message, StringComparison.Ordinal);
        Assert.Contains("'joining'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_joined_member_takes_its_given_id_the_clusters_id_and_the_founding_membership()
    {
        var options = Load(["--name", "n4", "--initial-cluster", Cluster, "--initial-cluster-state", "existing"]);
        var identity = new JoinedIdentity(0x44, 0xc1, [1, 2, 3],
        [
            new JoinedIdentity.Member(1, "n1", false, ["http://127.0.0.1:2380"], ["http://127.0.0.1:2379"]),
            new JoinedIdentity.Member(0x44, "", true, ["http://127.0.0.1:2480"], []),
        ]);

        var joined = options.JoinedAs(identity);
        Assert.Equal(0x44UL, joined.NodeId);
        Assert.Equal(0xc1UL, joined.ClusterId);
        Assert.Equal("n4", joined.Self.Name); // named by its own --name, not the empty name MemberAdd gave it
        Assert.True(joined.Self.IsLearner);
        var host = joined.ToHostOptions();
        Assert.Equal(0xc1UL, host.EffectiveClusterId);
        Assert.Equal([1UL, 2, 3], host.BootstrapConfig!.Voters);
    }

    [Fact]
    public void The_identity_survives_a_restart_in_the_data_dir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bulwark-join-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Assert.Null(ClusterJoin.Load(dir));
            Assert.False(ClusterJoin.HoldsState(dir));
            var identity = new JoinedIdentity(7, 9, [1], [new JoinedIdentity.Member(7, "", true, ["http://127.0.0.1:1"], [])]);
            ClusterJoin.Save(dir, identity);
            var loaded = ClusterJoin.Load(dir)!;
            Assert.Equal((7UL, 9UL), (loaded.MemberId, loaded.ClusterId));
            Assert.Equal([1UL], loaded.FoundingVoters);
            File.WriteAllText(ClusterJoin.PathIn(dir), "{not json");
            Assert.Throws<InvalidDataException>(() => ClusterJoin.Load(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
