namespace Bulwark.Server.Configuration;

/// <summary>One configurable setting: its flag / JSON key, its environment variable and what it means.</summary>
public sealed record NodeSetting(string Key, string Description, string Default, string? Alias = null)
{
    /// <summary>BULWARK_ plus the key upper-cased with '-' as '_' (e.g. heartbeat-interval -> BULWARK_HEARTBEAT_INTERVAL).</summary>
    public string EnvironmentVariable => "BULWARK_" + Key.Replace('-', '_').ToUpperInvariant();

    public string Flag => "--" + Key;
}

/// <summary>Every node setting, with etcd's flag names where etcd has the same setting.</summary>
public static class NodeSettings
{
    public const string ConfigFile = "config-file";
    public const string Name = "name";
    public const string NodeId = "node-id";
    public const string InitialCluster = "initial-cluster";
    public const string InitialClusterState = "initial-cluster-state";
    public const string DataDir = "data-dir";
    public const string ListenClientUrls = "listen-client-urls";
    public const string AdvertiseClientUrls = "advertise-client-urls";
    public const string ListenPeerUrls = "listen-peer-urls";
    public const string ListenMetricsUrls = "listen-metrics-urls";
    public const string HeartbeatInterval = "heartbeat-interval";
    public const string ElectionTimeout = "election-timeout";
    public const string SnapshotCount = "snapshot-count";
    public const string SnapshotCatchUpEntries = "snapshot-catchup-entries";
    public const string SnapshotChunkBytes = "snapshot-chunk-bytes";
    public const string MaxRequestBytes = "max-request-bytes";
    public const string MaxTxnOps = "max-txn-ops";
    public const string RequestTimeout = "request-timeout";
    public const string WatchProgressNotifyInterval = "watch-progress-notify-interval";
    public const string PreVote = "pre-vote";
    public const string CheckQuorum = "check-quorum";
    public const string CorruptCheckTime = "corrupt-check-time";
    public const string UnsafeFaultInjection = "unsafe-fault-injection";
    public const string GrayFailure = "gray-failure";
    public const string CertFile = "cert-file";
    public const string KeyFile = "key-file";
    public const string TrustedCaFile = "trusted-ca-file";
    public const string ClientCertAuth = "client-cert-auth";
    public const string PeerCertFile = "peer-cert-file";
    public const string PeerKeyFile = "peer-key-file";
    public const string PeerTrustedCaFile = "peer-trusted-ca-file";
    public const string PeerClientCertAuth = "peer-client-cert-auth";
    public const string AuthToken = "auth-token";

    public static IReadOnlyList<NodeSetting> All { get; } =
    [
        new(ConfigFile, "JSON file of settings (keys are these names without the dashes' prefix); env and flags override it", "(none)"),
        new(Name, "this member's name; must appear in --initial-cluster", "default"),
        new(NodeId, "this member's Raft id (decimal or 0x-hex); by default derived from the name", "(from name)"),
        new(InitialCluster, "founding members as name=peer-url,... (etcd's --initial-cluster)", "<name>=<listen-peer-url>"),
        new(InitialClusterState, "new: found a cluster of the --initial-cluster members; existing: join a running cluster this member was added to (member add), asking the members listed in --initial-cluster; ignored once the data dir holds state", "new"),
        new(DataDir, "directory of this member's WAL and snapshots", "bulwark-data/<name>"),
        new(ListenClientUrls, "URLs (comma-separated) serving the etcd v3 gRPC API", "http://127.0.0.1:2379"),
        new(AdvertiseClientUrls, "client URLs published to the cluster (MemberList)", "<listen-client-urls>"),
        new(ListenPeerUrls, "URL accepting Raft traffic from peers", "this member's URL in --initial-cluster"),
        new(ListenMetricsUrls, "URL serving /metrics, /health and the status page", "http://127.0.0.1:2381"),
        new(HeartbeatInterval, "leader heartbeat period in ms (one Raft tick)", "50"),
        new(ElectionTimeout, "ms without a leader before a follower campaigns (randomized up to 2x); at least 5x heartbeat", "500"),
        new(SnapshotCount, "applied entries between snapshots (the log is compacted behind each)", "100000"),
        new(SnapshotCatchUpEntries, "entries kept in the log behind each snapshot, so a follower lagging by fewer catches up without one", "5000"),
        new(SnapshotChunkBytes, "snapshots stream to peers disk to disk in chunks of this many bytes (1024..8388608)", "1048576"),
        new(MaxRequestBytes, "largest client request in bytes", "1572864"),
        new(MaxTxnOps, "most operations in one txn", "128"),
        new(RequestTimeout, "ms a client call may wait for commit or a read point", "5000"),
        new(WatchProgressNotifyInterval, "ms between progress notifications to idle watchers that asked for them (etcd's default: 10 minutes)", "600000"),
        new(PreVote, "pre-vote before campaigning (a returning partitioned node does not disrupt the cluster)", "true"),
        new(CheckQuorum, "a leader that loses contact with a quorum steps down", "true"),
        new(CorruptCheckTime, "how often the leader compares every member's HashKV and raises the CORRUPT alarm on a mismatch, " +
            "as a duration (500ms, 30s, 5m; a bare number is ms); 0 = off (also --experimental-corrupt-check-time, etcd's name)", "0",
            Alias: "experimental-corrupt-check-time"),
        new(GrayFailure, "gray-failure handling: followers suspect a silent leader before an election timeout, a degraded leader " +
            "hands leadership over, followers report a leader that is alive but not committing (docs/consensus.md, \"Gray failures\"); " +
            "false leaves only the election timeout and closed connections", "true"),
        new(UnsafeFaultInjection, "UNSAFE, for tests only: named fault points (fsync-delay, fsync-error, disk-full, clock-jump) " +
            "switched by POST /debug/faults on the metrics listener from this machine (docs/chaos.md)", "false"),
        new(CertFile, "PEM certificate of the client listener (needed by https:// client URLs); re-read when the file changes", "(none)"),
        new(KeyFile, "PEM private key of --cert-file", "(none)"),
        new(TrustedCaFile, "PEM CA bundle client certificates must chain to (with --client-cert-auth); members trust it when they call each other", "(system roots)"),
        new(ClientCertAuth, "clients must present a certificate that chains to --trusted-ca-file", "false"),
        new(PeerCertFile, "PEM certificate of the peer listener (needed by https:// peer URLs); also presented when dialling peers", "(none)"),
        new(PeerKeyFile, "PEM private key of --peer-cert-file", "(none)"),
        new(PeerTrustedCaFile, "PEM CA bundle peer certificates must chain to; a dialled peer's certificate must also name the host it was dialled at", "(system roots)"),
        new(PeerClientCertAuth, "peers must present a certificate that chains to --peer-trusted-ca-file", "false"),
        new(AuthToken, "token type: simple, or jwt,pub-key=PATH,priv-key=PATH,sign-method=RS256|PS256|ES256|...[,ttl=5m] " +
            "(signed tokens any member with the public key checks; a member without priv-key verifies but cannot issue)", "simple"),
    ];

    /// <summary>The setting named <paramref name="key"/> (its key, or the etcd name it also answers to).</summary>
    public static NodeSetting? Find(string key) => All.FirstOrDefault(s => s.Key == key || s.Alias == key);
}
