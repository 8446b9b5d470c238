using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Configuration;

/// <summary>
/// A node's validated configuration, as loaded by <see cref="NodeConfigurationLoader"/> (file, then BULWARK_* environment,
/// then flags). Defaults favour fast failover on a LAN: 50 ms heartbeats, a 500 ms election timeout, pre-vote and check-quorum.
/// </summary>
public sealed record NodeOptions
{
    public required string Name { get; init; }

    /// <summary>This member's Raft id: given explicitly, or derived from <see cref="Name"/> (<see cref="ClusterMember.IdFromName"/>).</summary>
    public required ulong NodeId { get; init; }

    /// <summary>The founding members; this node is among them with <see cref="NodeId"/>.</summary>
    public required IReadOnlyList<ClusterMember> InitialCluster { get; init; }

    public required string DataDir { get; init; }

    /// <summary>etcd's --initial-cluster-state: found a new cluster, or join an existing one (see <see cref="JoinedIdentity"/>).</summary>
    public InitialClusterState InitialClusterState { get; init; } = InitialClusterState.New;

    /// <summary>The cluster's id when it is not the founding members' (a member that joined learned it); 0 derives it.</summary>
    public ulong JoinedClusterId { get; init; }

    /// <summary>The membership a new data dir starts from when it is not the initial cluster (a joined member's:
    /// the cluster's founding voters); null means the initial cluster.</summary>
    public ClusterConfig? BootstrapConfig { get; init; }

    public required IReadOnlyList<string> ListenClientUrls { get; init; }

    public required IReadOnlyList<string> AdvertiseClientUrls { get; init; }

    public required string ListenPeerUrl { get; init; }

    public required string ListenMetricsUrl { get; init; }

    /// <summary>The leader's heartbeat period, which is also the length of one Raft tick.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public ulong SnapshotCount { get; init; } = Hosting.NodeHostOptions.DefaultSnapshotThreshold;

    /// <summary>Entries kept behind each snapshot for lagging followers (<see cref="NodeHostOptions.SnapshotCatchUpEntries"/>).</summary>
    public ulong SnapshotCatchUpEntries { get; init; } = Hosting.NodeHostOptions.DefaultSnapshotCatchUpEntries;

    /// <summary>Chunk size of snapshots streamed to peers (<see cref="NodeHostOptions.SnapshotChunkBytes"/>).</summary>
    public int SnapshotChunkBytes { get; init; } = Transport.PeerTransportOptions.DefaultSnapshotChunkBytes;

    public int MaxRequestBytes { get; init; } = KvLimits.DefaultMaxRequestBytes;

    public int MaxTxnOps { get; init; } = KvLimits.DefaultMaxTxnOps;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan WatchProgressNotifyInterval { get; init; } = NodeHostOptions.DefaultWatchProgressNotifyInterval;

    public bool PreVote { get; init; } = true;

    public bool CheckQuorum { get; init; } = true;

    /// <summary>How often the leader runs the corruption check (<see cref="Hosting.CorruptionCheck"/>); zero: off.</summary>
    public TimeSpan CorruptCheckTime { get; init; } = TimeSpan.Zero;

    /// <summary>Test-only fault points (<see cref="Faults.FaultInjection"/>): never on unless asked for by name.</summary>
    public bool UnsafeFaultInjection { get; init; }

    /// <summary>Gray-failure handling (--gray-failure): every part of <see cref="Health.GrayFailureOptions"/> on, or all off.</summary>
    public bool GrayFailure { get; init; } = true;
    /// <summary>TLS of the client listener (--cert-file and friends); null: no https client URL.</summary>
    public Security.TlsFiles? ClientTls { get; init; }

    /// <summary>TLS of the peer listener and of the connections to peers (--peer-cert-file and friends); null: plain TCP.</summary>
    public Security.TlsFiles? PeerTls { get; init; }

    /// <summary>--auth-token jwt,...: sign and check JWTs with these keys; null: etcd's simple tokens.</summary>
    public AuthTokenSetting? AuthToken { get; init; }

    /// <summary>The id every founding member derives alike from the members' ids; peers with another id are turned away.</summary>
    public ulong ClusterId => JoinedClusterId != 0 ? JoinedClusterId : ClusterMember.ClusterIdOf(InitialCluster.Select(m => m.Id));

    /// <summary>
    /// These options for a member that joined a running cluster: its id, the cluster's id, the founding membership to
    /// start its log from, and the members it learned of as its initial cluster.
    /// </summary>
    public NodeOptions JoinedAs(JoinedIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return this with
        {
            NodeId = identity.MemberId,
            JoinedClusterId = identity.ClusterId,
            InitialCluster = identity.InitialCluster(Name),
            BootstrapConfig = ClusterConfig.Of(identity.FoundingVoters),
        };
    }

    public ClusterMember Self => InitialCluster.Single(m => m.Id == NodeId);

    /// <summary>The consensus core's settings: one tick per heartbeat interval.</summary>
    public RaftConfig ToRaftConfig() => new()
    {
        Id = NodeId,
        HeartbeatTicks = 1,
        ElectionTicks = (int)Math.Round(ElectionTimeout / HeartbeatInterval),
        PreVote = PreVote,
        CheckQuorum = CheckQuorum,
    };

    /// <summary>The node host's settings.</summary>
    public NodeHostOptions ToHostOptions() => new()
    {
        NodeId = NodeId,
        InitialCluster = InitialCluster,
        DataDir = DataDir,
        ClusterId = ClusterId,
        BootstrapConfig = BootstrapConfig,
        AdvertiseClientUrls = AdvertiseClientUrls,
        ListenPeerUrl = ListenPeerUrl,
        HeartbeatInterval = HeartbeatInterval,
        ElectionTimeout = ElectionTimeout,
        SnapshotThreshold = SnapshotCount,
        SnapshotCatchUpEntries = SnapshotCatchUpEntries,
        SnapshotChunkBytes = SnapshotChunkBytes,
        RequestTimeout = RequestTimeout,
        WatchProgressNotifyInterval = WatchProgressNotifyInterval,
        Limits = new KvLimits { MaxRequestBytes = MaxRequestBytes, MaxTxnOps = MaxTxnOps },
        GrayFailure = GrayFailure ? Health.GrayFailureOptions.Default : Health.GrayFailureOptions.Off,
    };
}

/// <summary>etcd's --initial-cluster-state.</summary>
public enum InitialClusterState
{
    /// <summary>Found a new cluster with the --initial-cluster members.</summary>
    New,

    /// <summary>Join a running cluster this member was added to.</summary>
    Existing,
}
