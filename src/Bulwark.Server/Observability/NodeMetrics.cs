using System.Diagnostics.Metrics;

namespace Bulwark.Server.Observability;

/// <summary>
/// The node's instruments on its own <see cref="Meter"/>, named as etcd names them where etcd has the metric (so etcd
/// dashboards and alerts work), bulwark_* otherwise. Gauges read <see cref="MetricsState"/>, which the observability
/// sampler refreshes; counters and histograms are recorded as things happen.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Bulwark.Server";

    /// <summary>etcd's fsync buckets: 1 ms doubling to about 8 s.</summary>
    private static readonly double[] DiskBuckets = [.. Enumerable.Range(0, 14).Select(i => 0.001 * Math.Pow(2, i))];

    /// <summary>etcd's peer round-trip buckets: 0.1 ms doubling to about 3 s.</summary>
    private static readonly double[] RoundTripBuckets = [.. Enumerable.Range(0, 16).Select(i => 0.0001 * Math.Pow(2, i))];

    private static readonly double[] GrpcBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] SlowBuckets = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

    private readonly Meter meter = new(MeterName);
    private readonly Counter<long> leaderChanges;
    private readonly Counter<long> proposalsFailed;
    private readonly Histogram<double> fsyncSeconds;
    private readonly Histogram<double> peerRoundTrip;
    private readonly Histogram<double> snapshotSeconds;
    private readonly Histogram<double> failoverSeconds;
    private readonly Counter<long> grpcHandled;
    private readonly Histogram<double> grpcSeconds;
    private readonly Counter<long> journalEvents;

    public NodeMetrics(Func<MetricsState> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        meter.CreateObservableGauge("etcd_server_has_leader", () => state().HasLeader ? 1 : 0, description: "Whether or not a leader exists. 1 is existence, 0 is not.");
        meter.CreateObservableGauge("etcd_server_is_leader", () => state().IsLeader ? 1 : 0, description: "Whether or not this member is a leader. 1 if is, 0 otherwise.");
        leaderChanges = meter.CreateCounter<long>("etcd_server_leader_changes_seen_total", description: "The number of leader changes seen.");
        meter.CreateObservableCounter("etcd_server_proposals_committed_total", () => (long)state().Commit, description: "The total number of consensus proposals committed.");
        meter.CreateObservableCounter("etcd_server_proposals_applied_total", () => (long)state().Applied, description: "The total number of consensus proposals applied.");
        meter.CreateObservableGauge("etcd_server_proposals_pending", () => (long)state().Pending, description: "The current number of pending proposals to commit.");
        proposalsFailed = meter.CreateCounter<long>("etcd_server_proposals_failed_total", description: "The total number of failed proposals seen.");
        fsyncSeconds = meter.CreateHistogram<double>("etcd_disk_wal_fsync_duration_seconds", description: "The latency distributions of fsync called by WAL.");
        peerRoundTrip = meter.CreateHistogram<double>("etcd_network_peer_round_trip_time_seconds", description: "Round-Trip-Time histogram between peers");
        meter.CreateObservableGauge("etcd_mvcc_db_total_size_in_bytes", () => state().DataBytes, description: "Key and current value bytes of the live keys (Bulwark keeps the store in memory; see docs/operations.md, Database size).");
        meter.CreateObservableCounter("etcd_network_snapshot_send_success", () => state().PeerTransport.Select(p => new Measurement<long>(p.SnapshotsSent, To(p.PeerId))), description: "Total number of successful snapshot sends");
        meter.CreateObservableCounter("etcd_network_snapshot_send_failures", () => state().PeerTransport.Select(p => new Measurement<long>(p.SnapshotsFailed, To(p.PeerId))), description: "Total number of snapshot send failures");
        meter.CreateObservableGauge("etcd_server_term", () => (long)state().Term, description: "The current Raft term of this member.");
        grpcHandled = meter.CreateCounter<long>("grpc_server_handled_total", description: "Total number of RPCs completed on the server, regardless of success or failure.");
        grpcSeconds = meter.CreateHistogram<double>("grpc_server_handling_seconds", description: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.");
        meter.CreateObservableGauge("bulwark_peer_suspicion_phi", () => state().Peers.Select(p => new Measurement<double>(p.Phi, Peer(p))), description: "Phi-accrual suspicion of each peer (0 = fine; 8 = suspect).");
        meter.CreateObservableGauge("bulwark_peer_state", () => state().Peers.Select(p => new Measurement<int>((int)p.State, Peer(p))), description: "Each peer as this member judges it: 0 up, 1 suspect, 2 down.");
        meter.CreateObservableGauge("bulwark_peer_up", () => state().Peers.Select(p => new Measurement<int>(p.State == PeerState.Down ? 0 : 1, Peer(p))), description: "1 unless this member judges the peer down.");
        meter.CreateObservableGauge("bulwark_alarm_active", () => new Measurement<int>(state().NoSpaceAlarm ? 1 : 0, new KeyValuePair<string, object?>("alarm", "NOSPACE")), description: "1 while this member's alarm is raised (NOSPACE: a full disk holds back its writes; client writes are refused).");
        meter.CreateObservableGauge("bulwark_apply_lag_entries", () => (long)state().ApplyLag, description: "Committed entries not yet applied on this member.");
        meter.CreateObservableGauge("bulwark_commit_index", () => (long)state().Commit, description: "Highest log index known committed.");
        meter.CreateObservableGauge("bulwark_applied_index", () => (long)state().Applied, description: "Highest log index applied to the key-value store.");
        snapshotSeconds = meter.CreateHistogram<double>("bulwark_snapshot_duration_seconds", description: "Time to write a snapshot and compact the log behind it.");
        failoverSeconds = meter.CreateHistogram<double>("bulwark_failover_duration_seconds", description: "Time this member spent without a leader (or with a suspected one) until a new leader was known.");
        journalEvents = meter.CreateCounter<long>("bulwark_journal_events_total", description: "Events written to the event journal, by kind.");
        meter.CreateObservableCounter("bulwark_journal_write_failures_total", () => state().JournalWriteFailures, description: "Journal records that could not be written.");
    }

    public Meter Meter => meter;

    /// <summary>Histogram bucket bounds by instrument name, for <see cref="PrometheusExposition"/>.</summary>
    public static IReadOnlyDictionary<string, double[]> Buckets { get; } = new Dictionary<string, double[]>
    {
        ["etcd_disk_wal_fsync_duration_seconds"] = DiskBuckets,
        ["etcd_network_peer_round_trip_time_seconds"] = RoundTripBuckets,
        ["grpc_server_handling_seconds"] = GrpcBuckets,
        ["bulwark_snapshot_duration_seconds"] = SlowBuckets,
        ["bulwark_failover_duration_seconds"] = SlowBuckets,
    };

    /// <summary>Publishes the counters at 0 so they exist before the first event (rate() and increase() need a start).</summary>
    public void PublishZeroes()
    {
        leaderChanges.Add(0);
        proposalsFailed.Add(0);
    }

    public void LeaderChanged() => leaderChanges.Add(1);

    public void ProposalFailed() => proposalsFailed.Add(1);

    public void Fsync(TimeSpan duration) => fsyncSeconds.Record(duration.TotalSeconds);

    public void RoundTrip(ulong peer, TimeSpan duration) => peerRoundTrip.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("To", peer.ToString("x", System.Globalization.CultureInfo.InvariantCulture)));

    public void Snapshot(TimeSpan duration) => snapshotSeconds.Record(duration.TotalSeconds);

    public void Failover(TimeSpan duration) => failoverSeconds.Record(duration.TotalSeconds);

    public void JournalEvent(string kind) => journalEvents.Add(1, new KeyValuePair<string, object?>("event", kind));

    /// <summary>One finished RPC, labelled like go-grpc-prometheus (grpc_type is always unary here: the API is unary).</summary>
    public void GrpcHandled(string service, string method, string code, TimeSpan duration)
    {
        KeyValuePair<string, object?>[] tags =
        [
            new("grpc_type", "unary"),
            new("grpc_service", service),
            new("grpc_method", method),
            new("grpc_code", code),
        ];
        grpcHandled.Add(1, tags);
        grpcSeconds.Record(duration.TotalSeconds, tags.AsSpan(0, 3));
    }

    private static KeyValuePair<string, object?> To(ulong peer) => new("To", peer.ToString("x", System.Globalization.CultureInfo.InvariantCulture));

    private static KeyValuePair<string, object?>[] Peer(PeerHealth p) =>
        [new("peer", p.Name), new("To", p.Id.ToString("x", System.Globalization.CultureInfo.InvariantCulture))];

    public void Dispose() => meter.Dispose();
}

/// <summary>What the gauges read: the node as last sampled.</summary>
public sealed record MetricsState(
    bool HasLeader,
    bool IsLeader,
    ulong Term,
    ulong Commit,
    ulong Applied,
    ulong Pending,
    long DataBytes,
    IReadOnlyList<PeerHealth> Peers,
    long JournalWriteFailures,
    bool NoSpaceAlarm = false,
    IReadOnlyList<Transport.PeerStats>? PeerTransportStats = null)
{
    /// <summary>Each peer connection's outbound counters (snapshots sent and failed), none when not sampled.</summary>
    public IReadOnlyList<Transport.PeerStats> PeerTransport => PeerTransportStats ?? [];

    public ulong ApplyLag => Commit > Applied ? Commit - Applied : 0;

    public static MetricsState Empty { get; } = new(false, false, 0, 0, 0, 0, 0, [], 0);
}
