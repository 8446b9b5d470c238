using Bulwark.Kv;

namespace Bulwark.Server.Hosting;

/// <summary>What one node host needs to run. The configuration loader (or a test) fills it in.</summary>
public sealed record NodeHostOptions
{
    /// <summary>This node's Raft id; must be one of <see cref="InitialCluster"/>.</summary>
    public required ulong NodeId { get; init; }

    /// <summary>Every founding member with its peer URL (client URLs may be empty: members publish theirs through the log).</summary>
    public required IReadOnlyList<ClusterMember> InitialCluster { get; init; }

    /// <summary>Directory holding this node's write-ahead log (wal/) and snapshots (snap/).</summary>
    public required string DataDir { get; init; }

    /// <summary>The client URLs this node advertises in MemberList.</summary>
    public IReadOnlyList<string> AdvertiseClientUrls { get; init; } = [];

    /// <summary>The peer URL this node listens on for Raft traffic (default: its own entry in the initial cluster).</summary>
    public string? ListenPeerUrl { get; init; }

    /// <summary>TLS of the peer listener and of the connections to peers; null: plain TCP.</summary>
    public Security.TlsCredentials? PeerTls { get; init; }

    /// <summary>Cluster id; 0 means derive it from the initial members' ids.</summary>
    public ulong ClusterId { get; init; }

    /// <summary>
    /// The membership a brand-new data dir starts from (the configuration at log index 0); null means the initial
    /// cluster's members as voters. A member that joined a running cluster starts from the cluster's founding membership,
    /// which it learned when it joined (<see cref="ClusterJoin"/>): the log after index 0 holds every change since.
    /// </summary>
    public Bulwark.Consensus.ClusterConfig? BootstrapConfig { get; init; }

    /// <summary>One tick; the leader heartbeats every tick.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A follower campaigns after a randomized [1, 2) times this without hearing a leader.</summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The default of <see cref="SnapshotThreshold"/>: etcd 3.4's snapshot-count. A snapshot serializes the whole store
    /// on the apply worker, which holds every waiting call's completion meanwhile; at 10,000 (the earlier default) a
    /// node taking 8,000 puts/s snapshotted every 1.2 s and those pauses were its slowest 1 % of puts (p99 at 256
    /// clients 299 ms against 80 ms at 100,000; docs/benchmarks.md). The cost is up to this many entries kept in the
    /// log (memory and WAL) and replayed after a restart.
    /// </summary>
    public const ulong DefaultSnapshotThreshold = 100_000;

    /// <summary>Bounds of <see cref="SnapshotChunkBytes"/>: a chunk plus its header fits the transport's 16 MiB frame.</summary>
    public const int MinSnapshotChunkBytes = 1024;

    /// <inheritdoc cref="MinSnapshotChunkBytes"/>
    public const int MaxSnapshotChunkBytes = 8 << 20;

    /// <summary>A snapshot is taken (and the log compacted) every this many applied entries.</summary>
    public ulong SnapshotThreshold { get; init; } = DefaultSnapshotThreshold;

    /// <summary>
    /// The default of <see cref="SnapshotCatchUpEntries"/>: etcd's snapshot-catchup-entries. Entries are small next to a
    /// snapshot of the whole store, so keeping this many costs little and spares most briefly-lagging followers a snapshot.
    /// </summary>
    public const ulong DefaultSnapshotCatchUpEntries = 5_000;

    /// <summary>
    /// Entries kept in the log behind each snapshot (0 = compact exactly at it). A follower that falls back to probing
    /// fewer entries behind the snapshot (a dropped message, a slow disk) then catches up from the log instead of
    /// receiving a whole snapshot. The tail is not rebuilt after a restart: the node starts from its snapshot.
    /// </summary>
    public ulong SnapshotCatchUpEntries { get; init; } = DefaultSnapshotCatchUpEntries;

    /// <summary>
    /// Snapshots go to peers in chunks of this many bytes, streamed from disk to disk; about what each side holds of
    /// one in memory. A snapshot's size has no limit but the receiver's disk.
    /// </summary>
    public int SnapshotChunkBytes { get; init; } = Transport.PeerTransportOptions.DefaultSnapshotChunkBytes;

    /// <summary>How long a client call may wait for its entry to apply or its read point to be confirmed.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="MaxQueuedRequests"/>: one loop turn's worth of requests.</summary>
    public const int DefaultMaxQueuedRequests = 4096;

    /// <summary>
    /// Client requests (proposals and linearizable reads) that may wait for the node loop to take them. While the loop
    /// is held up (a slow fsync, a disk stall) requests beyond this are refused at once with "etcdserver: too many
    /// requests" instead of piling up in memory and being proposed long after their callers gave up.
    /// </summary>
    public int MaxQueuedRequests { get; init; } = DefaultMaxQueuedRequests;

    /// <summary>Request size and txn limits, checked before a request is proposed.</summary>
    public KvLimits Limits { get; init; } = KvLimits.Default;

    /// <summary>etcd's default interval of watch progress notifications (--watch-progress-notify-interval).</summary>
    public static readonly TimeSpan DefaultWatchProgressNotifyInterval = TimeSpan.FromMinutes(10);

    /// <summary>How often a watcher created with progress_notify that received nothing hears the member's revision.</summary>
    public TimeSpan WatchProgressNotifyInterval { get; init; } = DefaultWatchProgressNotifyInterval;

    /// <summary>Gray-failure handling: leader suspicion on followers, health transfers on the leader (docs/consensus.md).</summary>
    public Health.GrayFailureOptions GrayFailure { get; init; } = Health.GrayFailureOptions.Default;

    /// <summary>Seed of the election-timeout randomness (0 = derive one from the node id).</summary>
    public int RandomSeed { get; init; }

    /// <summary>Write-ahead log tuning (segment size, write buffer); null means the defaults. Tests use small segments.</summary>
    public Bulwark.Storage.Wal.WalOptions? Wal { get; init; }

    /// <summary>
    /// The JWT token scheme (--auth-token jwt,...): logins are answered with signed tokens and every token is checked
    /// against its public key. Null: etcd's simple tokens (the default).
    /// </summary>
    public Bulwark.Kv.Auth.JwtTokens? Jwt { get; init; }

    /// <summary>Receives peer messages, fsync times and snapshots for metrics, failure detection and the journal (none by default).</summary>
    public Observability.INodeObserver? Observer { get; init; }

    /// <summary>
    /// TEST-ONLY corruption hook (null in production): once this member's store holds this key, the apply worker
    /// overwrites its value in place, bypassing the log (<see cref="Bulwark.Kv.MvccStore.CorruptValueForTesting"/>), so
    /// tests can show the corruption check catching a damaged member. Set only by serve's hidden
    /// --test-only-corrupt-key option (<see cref="TestOnlyCorruption"/>).
    /// </summary>
    public byte[]? TestOnlyCorruptKey { get; init; }

    /// <summary>Test fault: outgoing peer messages for which this returns true are dropped (see <see cref="LossyPeerNetwork"/>).</summary>
    internal Func<Bulwark.Consensus.Message, bool>? DropPeerMessage { get; init; }

    public ulong EffectiveClusterId => ClusterId != 0 ? ClusterId : ClusterMember.ClusterIdOf(InitialCluster.Select(m => m.Id));

    public int ElectionTicks => (int)Math.Max(2, Math.Round(ElectionTimeout / HeartbeatInterval));

    /// <summary>This node's entry of <see cref="InitialCluster"/>.</summary>
    public ClusterMember Self => InitialCluster.FirstOrDefault(m => m.Id == NodeId)
        ?? throw new ArgumentException($"node id {NodeId:x} is not in the initial cluster ({string.Join(", ", InitialCluster.Select(m => $"{m.Name}={m.Id:x}"))})");

    /// <summary>Throws with a message naming the first setting that is wrong.</summary>
    public void Validate()
    {
        GrayFailure.Validate();
        if (NodeId == 0)
        {
            throw new ArgumentException("node id must be non-zero");
        }

        if (InitialCluster.Count == 0)
        {
            throw new ArgumentException("the initial cluster is empty");
        }

        if (InitialCluster.Select(m => m.Id).Distinct().Count() != InitialCluster.Count)
        {
            throw new ArgumentException("the initial cluster names a member id twice");
        }

        foreach (var member in InitialCluster)
        {
            if (member.PeerUrls.Count == 0)
            {
                throw new ArgumentException($"member '{member.Name}' has no peer URL");
            }
        }

        _ = Self;
        ArgumentException.ThrowIfNullOrWhiteSpace(DataDir);
        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"heartbeat interval must be positive (got {HeartbeatInterval})");
        }

        if (ElectionTimeout < 2 * HeartbeatInterval)
        {
            throw new ArgumentException($"election timeout {ElectionTimeout.TotalMilliseconds} ms must be at least twice the heartbeat interval {HeartbeatInterval.TotalMilliseconds} ms");
        }

        if (SnapshotThreshold == 0)
        {
            throw new ArgumentException("snapshot threshold must be positive");
        }

        if (MaxQueuedRequests <= 0)
        {
            throw new ArgumentException($"the request queue bound must be positive (got {MaxQueuedRequests})");
        }

        if (SnapshotChunkBytes is < MinSnapshotChunkBytes or > MaxSnapshotChunkBytes)
        {
            throw new ArgumentException($"snapshot chunk bytes must be in {MinSnapshotChunkBytes}..{MaxSnapshotChunkBytes} (got {SnapshotChunkBytes})");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"request timeout must be positive (got {RequestTimeout})");
        }

        Limits.EnsureValid();
    }
}
