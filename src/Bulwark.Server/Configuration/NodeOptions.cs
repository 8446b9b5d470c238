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

    /// <summary>The id every founding member derives alike from the members' ids; peers with another id are turned away.</summary>
    public ulong ClusterId => ClusterMember.ClusterIdOf(InitialCluster.Select(m => m.Id));

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
    };
}
