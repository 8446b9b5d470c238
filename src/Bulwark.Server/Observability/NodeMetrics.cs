using System.Globalization;
using System.Reflection;
using Prometheus;

namespace Bulwark.Server.Observability;

/// <summary>
/// The node's metrics on its own prometheus-net <see cref="CollectorRegistry"/> (never the static default registry:
/// several nodes run in one test process and must not share series), named as etcd names them where etcd has the metric
/// (so etcd dashboards and alerts work), bulwark_* otherwise. Gauges and the counters etcd derives from state read
/// <see cref="MetricsState"/> just before each collection; the rest are recorded as things happen. Every series that
/// can exist before its first event is created at construction so it is scraped at zero from the start.
/// </summary>
public sealed class NodeMetrics
{
    /// <summary>etcd's fsync and backend commit buckets: 1 ms doubling to about 8 s.</summary>
    private static readonly double[] DiskBuckets = Histogram.ExponentialBuckets(0.001, 2, 14);

    /// <summary>etcd's peer round-trip buckets: 0.1 ms doubling to about 3 s.</summary>
    private static readonly double[] RoundTripBuckets = Histogram.ExponentialBuckets(0.0001, 2, 16);

    private static readonly double[] GrpcBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] SlowBuckets = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

    /// <summary>
    /// Labels of the go-grpc-prometheus series, in the order the values are passed. Label names are declared in
    /// ordinal order throughout, as the exposition had them before prometheus-net (queries and tests match on it).
    /// </summary>
    private static readonly string[] GrpcLabels = ["grpc_method", "grpc_service", "grpc_type"];

    private static readonly string[] GrpcCodes =
    [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
        "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
        "Unauthenticated",
    ];

    private readonly Func<MetricsState> state;
    private readonly CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Gauge hasLeader;
    private readonly Gauge isLeader;
    private readonly Counter leaderChanges;
    private readonly Counter proposalsCommitted;
    private readonly Counter proposalsApplied;
    private readonly Gauge proposalsPending;
    private readonly Counter proposalsFailed;
    private readonly Histogram fsyncSeconds;
    private readonly Histogram backendCommitSeconds;
    private readonly Histogram peerRoundTrip;
    private readonly Gauge dbSize;
    private readonly Gauge dbSizeInUse;
    private readonly Counter snapshotsSent;
    private readonly Counter snapshotsFailed;
    private readonly Gauge term;
    private readonly Counter grpcStarted;
    private readonly Counter grpcHandled;
    private readonly Histogram grpcSeconds;
    private readonly Counter grpcReceived;
    private readonly Counter grpcSent;
    private readonly Gauge peerPhi;
    private readonly Gauge peerState;
    private readonly Gauge peerUp;
    private readonly Gauge alarmActive;
    private readonly Counter corruptionChecks;
    private readonly Gauge applyLag;
    private readonly Gauge commitIndex;
    private readonly Gauge appliedIndex;
    private readonly Histogram snapshotSeconds;
    private readonly Histogram failoverSeconds;
    private readonly Gauge watchers;
    private readonly Gauge slowWatchers;
    private readonly Counter leasesGranted;
    private readonly Counter leasesRevoked;
    private readonly Counter leasesRenewed;
    private readonly Counter leasesExpired;
    private readonly Counter leasesReleasedOnDisconnect;
    private readonly Counter failedLogins;
    private readonly Counter journalEvents;
    private readonly Counter journalWriteFailures;

    /// <summary>Peer series already created ("To" id), so a peer removed from the cluster can be dropped.</summary>
    private readonly HashSet<ulong> peerSeries = [];

    /// <param name="state">The node as last sampled, read before each collection.</param>
    /// <param name="peers">The other members known at start: their per-peer series are scraped at zero from the start.</param>
    public NodeMetrics(Func<MetricsState> state, IEnumerable<ulong>? peers = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        this.state = state;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        hasLeader = f.CreateGauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.");
        isLeader = f.CreateGauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.");
        leaderChanges = f.CreateCounter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.");
        proposalsCommitted = f.CreateCounter("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.");
        proposalsApplied = f.CreateCounter("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.");
        proposalsPending = f.CreateGauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.");
        proposalsFailed = f.CreateCounter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.");
        f.CreateGauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", "server_version")
            .WithLabels(Api.MaintenanceService.ApiVersion).Set(1);
        fsyncSeconds = f.CreateHistogram("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.",
            new HistogramConfiguration { Buckets = DiskBuckets });
        backendCommitSeconds = f.CreateHistogram("etcd_disk_backend_commit_duration_seconds",
            "The latency distributions of commit called by backend (Bulwark: applying a committed batch of entries to the key-value store).",
            new HistogramConfiguration { Buckets = DiskBuckets });
        peerRoundTrip = f.CreateHistogram("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers",
            new HistogramConfiguration { Buckets = RoundTripBuckets, LabelNames = ["To"] });
        dbSize = f.CreateGauge("etcd_mvcc_db_total_size_in_bytes",
            "Bytes of this member's snapshot and WAL files, preallocated space included (see docs/operations.md, Database size).");
        dbSizeInUse = f.CreateGauge("etcd_mvcc_db_total_size_in_use_in_bytes",
            "Key and current value bytes of the live keys (Bulwark keeps the store in memory; see docs/operations.md, Database size).");
        snapshotsSent = f.CreateCounter("etcd_network_snapshot_send_success", "Total number of successful snapshot sends", "To");
        snapshotsFailed = f.CreateCounter("etcd_network_snapshot_send_failures", "Total number of snapshot send failures", "To");
        term = f.CreateGauge("etcd_server_term", "The current Raft term of this member.");
        grpcStarted = f.CreateCounter("grpc_server_started_total", "Total number of RPCs started on the server.", GrpcLabels);
        grpcHandled = f.CreateCounter("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.",
            ["grpc_code", .. GrpcLabels]);
        grpcSeconds = f.CreateHistogram("grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
            new HistogramConfiguration { Buckets = GrpcBuckets, LabelNames = GrpcLabels });
        grpcReceived = f.CreateCounter("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", GrpcLabels);
        grpcSent = f.CreateCounter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", GrpcLabels);
        peerPhi = f.CreateGauge("bulwark_peer_suspicion_phi", "Phi-accrual suspicion of each peer (0 = fine; 8 = suspect).", "To", "peer");
        peerState = f.CreateGauge("bulwark_peer_state", "Each peer as this member judges it: 0 up, 1 suspect, 2 down.", "To", "peer");
        peerUp = f.CreateGauge("bulwark_peer_up", "1 unless this member judges the peer down.", "To", "peer");
        alarmActive = f.CreateGauge("bulwark_alarm_active",
            "1 while the alarm is raised (NOSPACE: this member's full disk holds back its writes; CORRUPT: replicated, some member's " +
            "data differs from the others'; client writes are refused).", "alarm");
        alarmActive.WithLabels("NOSPACE").Set(0);
        alarmActive.WithLabels("CORRUPT").Set(0);
        corruptionChecks = f.CreateCounter("bulwark_corruption_checks_total",
            "Runs of the leader's cross-member HashKV comparison (--corrupt-check-time) by result: ok, mismatch, incomplete.", "result");
        foreach (var result in (string[])["ok", "mismatch", "incomplete"])
        {
            corruptionChecks.WithLabels(result).Publish();
        }
        applyLag = f.CreateGauge("bulwark_apply_lag_entries", "Committed entries not yet applied on this member.");
        commitIndex = f.CreateGauge("bulwark_commit_index", "Highest log index known committed.");
        appliedIndex = f.CreateGauge("bulwark_applied_index", "Highest log index applied to the key-value store.");
        snapshotSeconds = f.CreateHistogram("bulwark_snapshot_duration_seconds", "Time to write a snapshot and compact the log behind it.",
            new HistogramConfiguration { Buckets = SlowBuckets });
        failoverSeconds = f.CreateHistogram("bulwark_failover_duration_seconds",
            "Time this member spent without a leader (or with a suspected one) until a new leader was known.",
            new HistogramConfiguration { Buckets = SlowBuckets });
        watchers = f.CreateGauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.");
        slowWatchers = f.CreateGauge("etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.");
        leasesGranted = f.CreateCounter("etcd_debugging_lease_granted_total", "The total number of granted leases.");
        leasesRevoked = f.CreateCounter("etcd_debugging_lease_revoked_total", "The total number of revoked leases.");
        leasesRenewed = f.CreateCounter("etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader.");
        leasesExpired = f.CreateCounter("etcd_server_lease_expired_total", "The total number of expired leases.");
        leasesReleasedOnDisconnect = f.CreateCounter("bulwark_lease_released_on_disconnect_total",
            "Leases this member revoked because the client whose keep-alive stream bound them (bulwark-lease-release-on-disconnect) went away.");
        failedLogins = f.CreateCounter("bulwark_auth_failed_logins_total",
            "Authenticate calls refused for an unknown user or a wrong password (each answered after a delay).");
        journalEvents = f.CreateCounter("bulwark_journal_events_total", "Events written to the event journal, by kind.", "event");
        foreach (var kind in JournalEventKinds())
        {
            journalEvents.WithLabels(kind).Publish();
        }

        journalWriteFailures = f.CreateCounter("bulwark_journal_write_failures_total", "Journal records that could not be written.");
        foreach (var peer in peers ?? [])
        {
            PeerSeries(peer);
        }

        DotNetStats.Register(registry);
        ProcessMetrics.Register(registry);
        registry.AddBeforeCollectCallback(Refresh);
    }

    /// <summary>This node's registry: what /metrics exports.</summary>
    public CollectorRegistry Registry => registry;

    /// <summary>Writes every series in the Prometheus text format (0.0.4).</summary>
    public Task ExportAsync(Stream destination, CancellationToken cancel = default) =>
        registry.CollectAndExportAsTextAsync(destination, cancel);

    public void LeaderChanged() => leaderChanges.Inc();

    public void ProposalFailed() => proposalsFailed.Inc();

    public void LeaseReleasedOnDisconnect() => leasesReleasedOnDisconnect.Inc();

    public void FailedLogin() => failedLogins.Inc();

    public void Fsync(TimeSpan duration) => fsyncSeconds.Observe(duration.TotalSeconds);

    public void BackendCommit(TimeSpan duration) => backendCommitSeconds.Observe(duration.TotalSeconds);

    public void RoundTrip(ulong peer, TimeSpan duration) => peerRoundTrip.WithLabels(Hex(peer)).Observe(duration.TotalSeconds);

    public void Snapshot(TimeSpan duration) => snapshotSeconds.Observe(duration.TotalSeconds);

    public void Failover(TimeSpan duration) => failoverSeconds.Observe(Math.Max(0, duration.TotalSeconds));

    public void JournalEvent(string kind) => journalEvents.WithLabels(kind).Inc();

    /// <summary>One run of the corruption check ended with <paramref name="result"/> (ok, mismatch, incomplete).</summary>
    public void CorruptionCheck(string result) => corruptionChecks.WithLabels(result).Inc();

    /// <summary>
    /// Creates a served method's series at zero, as go-grpc-prometheus does for every registered method (handled for
    /// every code), so rate() has a start and a dashboard's panels exist before the first call.
    /// </summary>
    public void GrpcMethod(string service, string method, string type)
    {
        grpcStarted.WithLabels(method, service, type).Publish();
        grpcSeconds.WithLabels(method, service, type).Publish();
        grpcReceived.WithLabels(method, service, type).Publish();
        grpcSent.WithLabels(method, service, type).Publish();
        foreach (var code in GrpcCodes)
        {
            grpcHandled.WithLabels(code, method, service, type).Publish();
        }
    }

    public void GrpcStarted(string service, string method, string type = "unary") => grpcStarted.WithLabels(method, service, type).Inc();

    /// <summary>A method's message counters (received, sent), looked up once per call rather than once per message.</summary>
    public (Counter.Child Received, Counter.Child Sent) GrpcMessages(string service, string method, string type = "unary") =>
        (grpcReceived.WithLabels(method, service, type), grpcSent.WithLabels(method, service, type));

    /// <summary>One finished RPC, labelled like go-grpc-prometheus (<paramref name="code"/> as Go spells it, e.g. Canceled).</summary>
    public void GrpcHandled(string service, string method, string code, TimeSpan duration, string type = "unary")
    {
        grpcHandled.WithLabels(code, method, service, type).Inc();
        grpcSeconds.WithLabels(method, service, type).Observe(duration.TotalSeconds);
    }

    /// <summary>Sets the gauges and state-derived counters from the node as last sampled.</summary>
    private void Refresh()
    {
        var s = state();
        hasLeader.Set(s.HasLeader ? 1 : 0);
        isLeader.Set(s.IsLeader ? 1 : 0);
        proposalsCommitted.IncTo(s.Commit);
        proposalsApplied.IncTo(s.Applied);
        proposalsPending.Set(s.Pending);
        dbSize.Set(s.DataBytes);
        dbSizeInUse.Set(s.DataBytesInUse);
        term.Set(s.Term);
        alarmActive.WithLabels("NOSPACE").Set(s.NoSpaceAlarm ? 1 : 0);
        alarmActive.WithLabels("CORRUPT").Set(s.CorruptAlarm ? 1 : 0);
        applyLag.Set(s.ApplyLag);
        commitIndex.Set(s.Commit);
        appliedIndex.Set(s.Applied);
        journalWriteFailures.IncTo(s.JournalWriteFailures);
        watchers.Set(s.Coordination.Watchers);
        slowWatchers.Set(s.Coordination.SlowWatchers);
        leasesGranted.IncTo(s.Coordination.LeasesGranted);
        leasesRevoked.IncTo(s.Coordination.LeasesRevoked);
        // Renewals and expiries are counted by the lease keeper, which starts at zero again on restart like the process.
        leasesRenewed.IncTo(s.Coordination.LeasesRenewed);
        leasesExpired.IncTo(s.Coordination.LeasesExpired);
        foreach (var p in s.PeerTransport)
        {
            PeerSeries(p.PeerId);
            snapshotsSent.WithLabels(Hex(p.PeerId)).IncTo(p.SnapshotsSent);
            snapshotsFailed.WithLabels(Hex(p.PeerId)).IncTo(p.SnapshotsFailed);
        }

        foreach (var p in s.Peers)
        {
            PeerSeries(p.Id);
            var labels = new[] { Hex(p.Id), p.Name };
            peerPhi.WithLabels(labels).Set(p.Phi);
            peerState.WithLabels(labels).Set((int)p.State);
            peerUp.WithLabels(labels).Set(p.State == PeerState.Down ? 0 : 1);
        }
    }

    /// <summary>Creates a peer's counters and round-trip histogram at zero.</summary>
    private void PeerSeries(ulong peer)
    {
        if (!peerSeries.Add(peer))
        {
            return;
        }

        var to = Hex(peer);
        peerRoundTrip.WithLabels(to).Publish();
        snapshotsSent.WithLabels(to).Publish();
        snapshotsFailed.WithLabels(to).Publish();
    }

    private static IEnumerable<string> JournalEventKinds() =>
        typeof(JournalEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!);

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
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
    IReadOnlyList<Transport.PeerStats>? PeerTransportStats = null,
    CoordinationStats Coordination = default,
    bool CorruptAlarm = false,
    long DataBytesInUse = 0)
{
    /// <summary>Each peer connection's outbound counters (snapshots sent and failed), none when not sampled.</summary>
    public IReadOnlyList<Transport.PeerStats> PeerTransport => PeerTransportStats ?? [];

    public ulong ApplyLag => Commit > Applied ? Commit - Applied : 0;

    public static MetricsState Empty { get; } = new(false, false, 0, 0, 0, 0, 0, [], 0);
}

/// <summary>Watchers and lease counts as last sampled (etcd's mvcc watcher and lease metrics).</summary>
/// <param name="Watchers">Watchers open on this member.</param>
/// <param name="SlowWatchers">Watchers behind the store, catching up from history (etcd's unsynced watchers).</param>
/// <param name="LeasesGranted">Leases granted, as this member applied them.</param>
/// <param name="LeasesRevoked">Leases revoked (by clients or by expiry), as this member applied them.</param>
/// <param name="LeasesRenewed">Keep-alives this member renewed while leading.</param>
/// <param name="LeasesExpired">Leases this member found expired while leading.</param>
public readonly record struct CoordinationStats(
    long Watchers, long SlowWatchers, long LeasesGranted, long LeasesRevoked, long LeasesRenewed, long LeasesExpired);
