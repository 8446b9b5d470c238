using Bulwark.Server.Configuration;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Configuration;

public sealed class NodeConfigurationLoaderTests
{
    private const string Cluster = "n1=http://127.0.0.1:2380,n2=http://127.0.0.1:22380,n3=http://127.0.0.1:32380";

    private static NodeOptions Load(string[] args, Dictionary<string, string>? env = null, Dictionary<string, string>? files = null) =>
        NodeConfigurationLoader.Load(args, env ?? [], path => files is not null && files.TryGetValue(path, out var text) ? text : throw new FileNotFoundException($"no such file {path}"));

    private static ConfigurationException Fails(string[] args, Dictionary<string, string>? env = null, Dictionary<string, string>? files = null) =>
        Assert.Throws<ConfigurationException>(() => Load(args, env, files));

    [Fact]
    public void Defaults_make_a_single_node_cluster_tuned_for_fast_failover()
    {
        var o = Load([]);
        Assert.Equal("default", o.Name);
        Assert.Equal(ClusterMember.IdFromName("default"), o.NodeId);
        var self = Assert.Single(o.InitialCluster);
        Assert.Equal(["http://127.0.0.1:2380"], self.PeerUrls);
        Assert.Equal(Path.Combine("bulwark-data", "default"), o.DataDir);
        Assert.Equal(["http://127.0.0.1:2379"], o.ListenClientUrls);
        Assert.Equal(o.ListenClientUrls, o.AdvertiseClientUrls);
        Assert.Equal("http://127.0.0.1:2380", o.ListenPeerUrl);
        Assert.Equal("http://127.0.0.1:2381", o.ListenMetricsUrl);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.ElectionTimeout);
        Assert.Equal(1536 * 1024, o.MaxRequestBytes);
        Assert.Equal(128, o.MaxTxnOps);
        Assert.True(o.PreVote);
        Assert.True(o.CheckQuorum);
        var raft = o.ToRaftConfig();
        Assert.Equal((1, 10, true, true), (raft.HeartbeatTicks, raft.ElectionTicks, raft.PreVote, raft.CheckQuorum));
        raft.Validate();
    }

    [Fact]
    public void Flags_in_both_forms_build_a_three_node_member()
    {
        var o = Load(["--name", "n2", $"--initial-cluster={Cluster}", "--data-dir", "/var/lib/bulwark",
            "--listen-client-urls", "http://127.0.0.1:22379", "--heartbeat-interval", "100", "--election-timeout=1000",
            "--snapshot-count", "500", "--snapshot-catchup-entries", "40", "--max-request-bytes", "2097152", "--max-txn-ops", "64", "--request-timeout", "3000",
            "--pre-vote=false", "--check-quorum", "--listen-metrics-urls", "http://127.0.0.1:22381"]);
        Assert.Equal("n2", o.Name);
        Assert.Equal(ClusterMember.IdFromName("n2"), o.NodeId);
        Assert.Equal(["n1", "n2", "n3"], o.InitialCluster.Select(m => m.Name));
        Assert.Equal("http://127.0.0.1:22380", o.ListenPeerUrl);
        Assert.Equal("/var/lib/bulwark", o.DataDir);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), o.ElectionTimeout);
        Assert.Equal(500UL, o.SnapshotCount);
        Assert.Equal(40UL, o.SnapshotCatchUpEntries);
        Assert.Equal(NodeHostOptions.DefaultSnapshotCatchUpEntries, Load(["--name", "n1", "--initial-cluster", Cluster]).SnapshotCatchUpEntries);
        Assert.Equal(2097152, o.MaxRequestBytes);
        Assert.Equal(64, o.MaxTxnOps);
        Assert.Equal(TimeSpan.FromSeconds(3), o.RequestTimeout);
        Assert.False(o.PreVote);
        Assert.True(o.CheckQuorum);
        Assert.Equal(o.ClusterId, Load(["--name", "n1", "--initial-cluster", Cluster]).ClusterId);

        var host = o.ToHostOptions();
        host.Validate();
        Assert.Equal(o.NodeId, host.NodeId);
        Assert.Equal(500UL, host.SnapshotThreshold);
        Assert.Equal(40UL, host.SnapshotCatchUpEntries);
        Assert.Equal(64, host.Limits.MaxTxnOps);
        Assert.Equal(o.ClusterId, host.EffectiveClusterId);
    }

    [Fact]
    public void Later_sources_win_file_then_environment_then_flags()
    {
        var files = new Dictionary<string, string>
        {
            ["/etc/bulwark.json"] = """
                {
                  // comments are allowed
                  "name": "n1",
                  "initial-cluster": "n1=http://127.0.0.1:2380,n2=http://127.0.0.1:22380,n3=http://127.0.0.1:32380",
                  "heartbeat-interval": 20,
                  "election-timeout": 200,
                  "snapshot-count": 7,
                  "snapshot-catchup-entries": 70,
                  "pre-vote": false,
                  "listen-client-urls": ["http://127.0.0.1:2379", "http://127.0.0.1:3379"],
                }
                """,
        };
        var env = new Dictionary<string, string>
        {
            ["BULWARK_CONFIG_FILE"] = "/etc/bulwark.json",
            ["BULWARK_ELECTION_TIMEOUT"] = "300",
            ["BULWARK_SNAPSHOT_COUNT"] = "8",
            ["BULWARK_SNAPSHOT_CATCHUP_ENTRIES"] = "80",
            ["UNRELATED"] = "x",
        };

        var fileOnly = Load([], new Dictionary<string, string> { ["BULWARK_CONFIG_FILE"] = "/etc/bulwark.json" }, files);
        Assert.Equal((20, 200, 7UL, false), ((int)fileOnly.HeartbeatInterval.TotalMilliseconds, (int)fileOnly.ElectionTimeout.TotalMilliseconds, fileOnly.SnapshotCount, fileOnly.PreVote));
        Assert.Equal(["http://127.0.0.1:2379", "http://127.0.0.1:3379"], fileOnly.ListenClientUrls);
        Assert.Equal(70UL, fileOnly.SnapshotCatchUpEntries);

        var withEnv = Load([], env, files);
        Assert.Equal((20, 300, 8UL), ((int)withEnv.HeartbeatInterval.TotalMilliseconds, (int)withEnv.ElectionTimeout.TotalMilliseconds, withEnv.SnapshotCount));
        Assert.Equal(80UL, withEnv.SnapshotCatchUpEntries);

        var withFlags = Load(["--snapshot-count", "9", "--pre-vote", "true", "--snapshot-catchup-entries=0"], env, files);
        Assert.Equal(0UL, withFlags.SnapshotCatchUpEntries);
        Assert.Equal((20, 300, 9UL, true), ((int)withFlags.HeartbeatInterval.TotalMilliseconds, (int)withFlags.ElectionTimeout.TotalMilliseconds, withFlags.SnapshotCount, withFlags.PreVote));
    }

    [Fact]
    public void The_config_file_flag_beats_the_environment_variable()
    {
        var files = new Dictionary<string, string> { ["a.json"] = """{"name":"a"}""", ["b.json"] = """{"name":"b"}""" };
        var o = Load(["--config-file", "b.json"], new Dictionary<string, string> { ["BULWARK_CONFIG_FILE"] = "a.json" }, files);
        Assert.Equal("b", o.Name);
    }

    [Fact]
    public void An_explicit_node_id_replaces_the_derived_one()
    {
        var o = Load(["--name", "n1", "--initial-cluster", Cluster, "--node-id", "0x2a"]);
        Assert.Equal(42UL, o.NodeId);
        Assert.Equal(42UL, o.Self.Id);
        Assert.Equal(42UL, Load(["--node-id", "42"]).NodeId);
    }

    [Fact]
    public void Listen_peer_url_defaults_the_single_node_cluster()
    {
        var o = Load(["--name", "solo", "--listen-peer-urls", "http://127.0.0.1:9380"]);
        Assert.Equal(["http://127.0.0.1:9380"], Assert.Single(o.InitialCluster).PeerUrls);
    }

    [Theory]
    [InlineData(new[] { "--name", "n9", "--initial-cluster", Cluster }, "initial-cluster", "does not name this member 'n9'")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1" }, "initial-cluster", "'n1' is not name=peer-url")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=http://a:1,n1=http://b:2" }, "initial-cluster", "'n1' appears twice")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=http://a:1,n2=http://a:1" }, "initial-cluster", "given to two members")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=not a url" }, "initial-cluster", "is not a URL")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1" }, "initial-cluster", "needs an explicit port")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=unix://127.0.0.1:2380" }, "initial-cluster", "only http and https are supported")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=https://127.0.0.1:2380" }, "peer-cert-file", "is https, so --peer-cert-file and --peer-key-file are required")]
    [InlineData(new[] { "--listen-client-urls", "https://127.0.0.1:2379" }, "cert-file", "is https, so --cert-file and --key-file are required")]
    [InlineData(new[] { "--listen-metrics-urls", "https://127.0.0.1:2381" }, "listen-metrics-urls", "only http is supported")]
    [InlineData(new[] { "--client-cert-auth" }, "client-cert-auth", "needs --cert-file and --key-file")]
    [InlineData(new[] { "--peer-trusted-ca-file", "ca.crt" }, "peer-trusted-ca-file", "needs --peer-cert-file and --peer-key-file")]
    [InlineData(new[] { "--name", "n1", "--initial-cluster", "n1=http://127.0.0.1:2380/x" }, "initial-cluster", "must not have a path")]
    [InlineData(new[] { "--name", "n 1" }, "name", "may only hold letters")]
    [InlineData(new[] { "--name", "" }, "name", "member name is empty")]
    [InlineData(new[] { "--listen-client-urls", "127.0.0.1:2379" }, "listen-client-urls", "is not a URL")]
    [InlineData(new[] { "--listen-client-urls", "," }, "listen-client-urls", "no client listen URL given")]
    [InlineData(new[] { "--advertise-client-urls", "ftp://x:1" }, "advertise-client-urls", "only http")]
    [InlineData(new[] { "--listen-peer-urls", "http://127.0.0.1" }, "listen-peer-urls", "explicit port")]
    [InlineData(new[] { "--listen-metrics-urls", "http://127.0.0.1:2379" }, "listen-metrics-urls", "also used by --listen-client-urls")]
    [InlineData(new[] { "--heartbeat-interval", "0" }, "heartbeat-interval", "must be positive")]
    [InlineData(new[] { "--heartbeat-interval", "-5" }, "heartbeat-interval", "is not a whole number")]
    [InlineData(new[] { "--heartbeat-interval", "100", "--election-timeout", "400" }, "election-timeout", "at least 5x the heartbeat interval")]
    [InlineData(new[] { "--heartbeat-interval", "5000", "--election-timeout", "60000" }, "election-timeout", "over the 50000 ms maximum")]
    [InlineData(new[] { "--election-timeout", "soon" }, "election-timeout", "'soon' from flag --election-timeout is not a whole number")]
    [InlineData(new[] { "--snapshot-count", "0" }, "snapshot-count", "must be positive")]
    [InlineData(new[] { "--snapshot-catchup-entries", "-1" }, "snapshot-catchup-entries", "a whole number")]
    [InlineData(new[] { "--max-request-bytes", "0" }, "max-request-bytes", "outside 1..")]
    [InlineData(new[] { "--max-request-bytes", "99999999" }, "max-request-bytes", "outside 1..")]
    [InlineData(new[] { "--max-txn-ops", "0" }, "max-txn-ops", "must be positive")]
    [InlineData(new[] { "--request-timeout", "0" }, "request-timeout", "must be positive")]
    [InlineData(new[] { "--pre-vote", "maybe" }, "pre-vote", "is not true or false")]
    [InlineData(new[] { "--check-quorum=2" }, "check-quorum", "is not true or false")]
    [InlineData(new[] { "--node-id", "0" }, "node-id", "must be non-zero")]
    [InlineData(new[] { "--node-id", "0xZZ" }, "node-id", "is not a decimal or 0x-hex id")]
    [InlineData(new[] { "--data-dir", " " }, "data-dir", "is empty")]
    [InlineData(new[] { "--bogus", "1" }, "bogus", "unknown flag")]
    [InlineData(new[] { "n1" }, "n1", "unexpected argument 'n1'")]
    [InlineData(new[] { "--name" }, "name", "needs a value")]
    public void Invalid_settings_fail_naming_the_setting(string[] args, string setting, string message)
    {
        var e = Fails(args);
        Assert.Equal(setting, e.Setting);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"--{setting}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_id_that_collides_with_another_member_is_rejected()
    {
        var e = Fails(["--name", "n1", "--initial-cluster", Cluster, "--node-id", ClusterMember.IdFromName("n2").ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal("node-id", e.Setting);
        Assert.Contains("is also the id of", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_errors_name_the_variable()
    {
        var e = Fails([], new Dictionary<string, string> { ["BULWARK_HEARTBEAT_INTERVAL"] = "fast" });
        Assert.Equal("heartbeat-interval", e.Setting);
        Assert.Contains("environment variable BULWARK_HEARTBEAT_INTERVAL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", "is not valid JSON")]
    [InlineData("[1,2]", "must hold a JSON object")]
    [InlineData("""{"colour":"blue"}""", "unknown setting \"colour\"")]
    [InlineData("""{"config-file":"other.json"}""", "unknown setting \"config-file\"")]
    public void File_errors_name_the_file(string json, string message)
    {
        var e = Fails(["--config-file", "c.json"], files: new Dictionary<string, string> { ["c.json"] = json });
        Assert.Equal("config-file", e.Setting);
        Assert.Contains("c.json", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_values_of_the_wrong_shape_name_the_setting_and_the_file()
    {
        var e = Fails(["--config-file", "c.json"], files: new Dictionary<string, string> { ["c.json"] = """{"heartbeat-interval":{"ms":5}}""" });
        Assert.Equal("heartbeat-interval", e.Setting);
        Assert.Contains("in 'c.json'", e.Message, StringComparison.Ordinal);
        var typed = Fails(["--config-file", "c.json"], files: new Dictionary<string, string> { ["c.json"] = """{"heartbeat-interval":1.5}""" });
        Assert.Contains("from config file 'c.json' is not a whole number", typed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_is_a_clear_error()
    {
        var e = Fails(["--config-file", "/nope.json"]);
        Assert.Equal("config-file", e.Setting);
        Assert.Contains("cannot read '/nope.json'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gray_failure_handling_is_on_by_default_and_one_flag_turns_all_of_it_off()
    {
        Assert.Equal(Bulwark.Server.Health.GrayFailureOptions.Default, Load([]).ToHostOptions().GrayFailure);
        var off = Load(["--gray-failure=false"]).ToHostOptions().GrayFailure;
        Assert.Equal(Bulwark.Server.Health.GrayFailureOptions.Off, off);
        Assert.False(off.LeaderSuspicion || off.HealthTransfer || off.NoProgressReports);
        Assert.Equal(0, off.NoProgressTicks(10));
        Assert.Equal(30, Load([]).ToHostOptions().GrayFailure.NoProgressTicks(10));
        Assert.False(Load([], new() { ["BULWARK_GRAY_FAILURE"] = "false" }).GrayFailure);
        Assert.False(Load(["--config-file", "/c.json"], files: new() { ["/c.json"] = "{\"gray-failure\": false}" }).GrayFailure);
        Assert.Equal("gray-failure", Fails(["--gray-failure=maybe"]).Setting);
    }

    [Fact]
    public void Fault_injection_is_off_unless_asked_for_by_name()
    {
        Assert.False(Load([]).UnsafeFaultInjection);
        Assert.True(Load(["--unsafe-fault-injection"]).UnsafeFaultInjection);
        Assert.True(Load(["--unsafe-fault-injection", "--name", "n1", "--initial-cluster", Cluster]).UnsafeFaultInjection);
        Assert.True(Load([], new() { ["BULWARK_UNSAFE_FAULT_INJECTION"] = "true" }).UnsafeFaultInjection);
        Assert.True(Load(["--config-file", "/c.json"], files: new() { ["/c.json"] = "{\"unsafe-fault-injection\": true}" }).UnsafeFaultInjection);
        Assert.False(Load(["--unsafe-fault-injection=false"], new() { ["BULWARK_UNSAFE_FAULT_INJECTION"] = "true" }).UnsafeFaultInjection);
        Assert.Equal("unsafe-fault-injection", Fails(["--unsafe-fault-injection", "maybe"]).Setting);
    }

    [Fact]
    public void Every_setting_has_an_environment_variable_and_flag()
    {
        Assert.Equal("BULWARK_INITIAL_CLUSTER", NodeSettings.Find("initial-cluster")!.EnvironmentVariable);
        Assert.Equal(NodeSettings.All.Count, NodeSettings.All.Select(s => s.Key).Distinct().Count());
    }
}
