using System.Globalization;
using Bulwark.Consensus;
using Bulwark.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>
/// Everything a node shows operators: it receives the host's <see cref="INodeObserver"/> calls (peer messages, fsyncs,
/// snapshots), samples the node's status on a timer, and from both keeps the peer failure detector, the event journal,
/// the metrics and the leader history. Create it before the node (pass it as <see cref="NodeHostOptions.Observer"/>),
/// then <see cref="Attach"/> the started node.
/// </summary>
public sealed class NodeObservability : INodeObserver, IAsyncDisposable
{
    /// <summary>Phi at which a peer becomes SUSPECT (Akka's and Cassandra's usual threshold).</summary>
    public const double SuspectPhi = 8;

    private readonly object gate = new();
    private readonly ulong selfId;
    private readonly string selfName;
    private readonly string dataDir;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TimeSpan sampleInterval;
    private readonly Dictionary<ulong, string> names = [];
    private readonly Dictionary<ulong, PeerState> peerStates = [];
    private readonly LinkedList<LeaderChange> leaders = new();
    private readonly LinkedList<(TimeSpan At, ulong Applied)> applyHistory = new();
    private readonly FailoverClock failover = new();
    private NodeHost? node;
    private ITimer? timer;
    private NodeStatus? last;
    private MetricsState state = MetricsState.Empty;
    private int disposed;
    private HeaderView headerView = new([], []);

    /// <summary>Serializes samples: the timer and a scrape may sample at once, and a sample journals transitions.</summary>
    private readonly Lock sampling = new();

    public NodeObservability(ulong selfId, IReadOnlyList<ClusterMember> members, string dataDir, TimeSpan heartbeatInterval, TimeSpan electionTimeout,
        ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        ArgumentNullException.ThrowIfNull(loggers);
        this.selfId = selfId;
        this.dataDir = dataDir;
        this.time = time ?? TimeProvider.System;
        logger = loggers.CreateLogger<NodeObservability>();
        foreach (var member in members)
        {
            names[member.Id] = member.Name;
        }

        selfName = names.TryGetValue(selfId, out var name) ? name : selfId.ToString("x", CultureInfo.InvariantCulture);
        // A peer is down after missing a few election timeouts' worth of traffic: long enough that one GC pause or a
        // slow tick does not count as a failure in the journal (and so in the availability estimate).
        var downAfter = TimeSpan.FromTicks(Math.Max(electionTimeout.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        Peers = new PeerHealthTracker(SuspectPhi, downAfter, heartbeatInterval);
        foreach (var member in members.Where(m => m.Id != selfId))
        {
            Peers.Track(member.Id, member.Name);
            peerStates[member.Id] = PeerState.Up;
        }

        sampleInterval = TimeSpan.FromMilliseconds(Math.Clamp(heartbeatInterval.TotalMilliseconds, 20, 200));
        Metrics = new NodeMetrics(() => Volatile.Read(ref state), members.Where(m => m.Id != selfId).Select(m => m.Id));
        headerView = new HeaderView([.. names.Values.OrderBy(n => n, StringComparer.Ordinal)], []);
        // Read before this start journals anything: earlier starts are restarts, earlier leaders the page's history.
        History = JournalHistory.Read(Path.Combine(dataDir, "journal"), 50);
        foreach (var change in History.Leaders)
        {
            leaders.AddLast(change);
        }

        PutLatency = new PutLatencyRecorder(this.time);
        Journal = new EventJournal(Path.Combine(dataDir, "journal"), 8 * 1024 * 1024, 5, 200, JournalHeader);
    }

    public string Name => selfName;

    public ulong Id => selfId;

    public PeerHealthTracker Peers { get; }

    public NodeMetrics Metrics { get; }

    public EventJournal Journal { get; }

    /// <summary>What the journal held from before this start (see <see cref="JournalHistory"/>).</summary>
    public JournalHistory History { get; }

    /// <summary>Earlier starts of this node the journal remembers: restarts, by an operator or a supervisor.</summary>
    public int Restarts => History.Starts;

    /// <summary>Client put latencies on this member, for the status page's p50/p99.</summary>
    public PutLatencyRecorder PutLatency { get; }

    public NodeHost? Node => node;

    /// <summary>The node as last sampled, and what the gauges show.</summary>
    public MetricsState Current => Volatile.Read(ref state);

    /// <summary>The node's status as last sampled (null before <see cref="Attach"/>).</summary>
    public NodeStatus? LastStatus => Volatile.Read(ref last);

    /// <summary>Applied entries per second over the last few seconds.</summary>
    public double WriteRate
    {
        get
        {
            lock (gate)
            {
                if (applyHistory.Count < 2)
                {
                    return 0;
                }

                var (firstAt, firstApplied) = applyHistory.First!.Value;
                var (lastAt, lastApplied) = applyHistory.Last!.Value;
                var seconds = (lastAt - firstAt).TotalSeconds;
                return seconds > 0 ? (lastApplied - firstApplied) / seconds : 0;
            }
        }
    }

    public IReadOnlyList<LeaderChange> LeaderHistory()
    {
        lock (gate)
        {
            return [.. leaders];
        }
    }

    public string NameOf(ulong id)
    {
        lock (gate)
        {
            return names.TryGetValue(id, out var name) ? name : id.ToString("x", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// Every peer as judged right now, for `bulwark status` (bulwark.v1.Node.Peers). Samples first, as a scrape does, so the
    /// answer is not up to one sampling interval old; empty before <see cref="Attach"/>.
    /// </summary>
    public IReadOnlyList<PeerHealth> PeersNow()
    {
        Sample();
        return Current.Peers;
    }

    /// <summary>
    /// Prometheus text for a scrape. The gauges are refreshed first, so a scrape never reports values older than the
    /// request (the timer's last sample can be up to one interval behind: a client that just saw its put acknowledged
    /// must see it counted in etcd_server_proposals_applied_total).
    /// </summary>
    public string ScrapeMetrics()
    {
        using var text = new MemoryStream();
        ScrapeMetricsAsync(text).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length);
    }

    /// <summary>Writes a scrape (see <see cref="ScrapeMetrics"/>) to <paramref name="destination"/>.</summary>
    public Task ScrapeMetricsAsync(Stream destination, CancellationToken cancel = default)
    {
        Sample();
        return Metrics.ExportAsync(destination, cancel);
    }

    /// <summary>Starts sampling <paramref name="started"/> and journals that it started.</summary>
    public void Attach(NodeHost started)
    {
        ArgumentNullException.ThrowIfNull(started);
        if (Interlocked.CompareExchange(ref node, started, null) is not null)
        {
            throw new InvalidOperationException("observability is already attached to a node");
        }

        var status = started.Status;
        Write(JournalEvents.NodeStarted, selfName, null, new Dictionary<string, object> { ["term"] = status.Term, ["commit"] = status.Commit, ["applied"] = status.Applied });
        Sample();
        timer = time.CreateTimer(_ => Sample(), null, sampleInterval, sampleInterval);
    }

    public void MessageReceived(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = Now();
        Peers.MessageFrom(message.From, now, message.Type == MessageType.HeartbeatResponse);
        if (message.Type == MessageType.HeartbeatResponse && Peers.RoundTrip(message.From) is { } rtt)
        {
            Metrics.RoundTrip(message.From, rtt);
        }
    }

    public void MessageSent(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Type == MessageType.Heartbeat)
        {
            Peers.HeartbeatSent(message.To, Now());
        }
    }

    public void Persisted(TimeSpan duration, bool synced)
    {
        if (synced)
        {
            Metrics.Fsync(duration);
        }
    }

    public void SnapshotTaken(ulong index, long bytes, TimeSpan duration)
    {
        Metrics.Snapshot(duration);
        var fields = new Dictionary<string, object> { ["index"] = index, ["bytes"] = bytes, ["seconds"] = duration.TotalSeconds };
        Write(JournalEvents.SnapshotTaken, selfName, null, fields);
        Write(JournalEvents.LogCompacted, selfName, null, new Dictionary<string, object> { ["index"] = index });
    }

    public void SnapshotInstalled(ulong index, long bytes) =>
        Write(JournalEvents.SnapshotInstalled, selfName, null, new Dictionary<string, object> { ["index"] = index, ["bytes"] = bytes });

    /// <summary>
    /// Counts leader changes (as etcd does: every change to a known leader) and times failovers from the loop's own
    /// view, which sees every change however short; the sampler below journals the changes it sees.
    /// </summary>
    public void LeaderChanged(ulong previous, ulong leader, ulong term)
    {
        if (leader != 0)
        {
            Metrics.LeaderChanged();
        }

        if (failover.LeaderChanged(leader, Now()) is { } took)
        {
            Metrics.Failover(took);
            ObservabilityLog.FailoverFinished(logger, leader, took.TotalSeconds);
        }
    }

    public void BackendCommitted(TimeSpan duration) => Metrics.BackendCommit(duration);

    /// <summary>A client proposal failed (timed out or was refused) after it was accepted for proposing.</summary>
    public void ProposalFailed() => Metrics.ProposalFailed();

    /// <summary>Journals an alarm (e.g. disk space) raised or cleared on this node.</summary>
    public void Alarm(string alarm, bool raised) =>
        Write(raised ? JournalEvents.AlarmRaised : JournalEvents.AlarmCleared, selfName, alarm);

    /// <summary>Journals a replicated alarm (CORRUPT) as this member applied it: node = the member it names.</summary>
    public void ReplicatedAlarm(ulong memberId, string alarm, bool raised) =>
        Write(raised ? JournalEvents.AlarmRaised : JournalEvents.AlarmCleared, NameOf(memberId), alarm,
            new Dictionary<string, object> { ["member_id"] = memberId.ToString("x", CultureInfo.InvariantCulture), ["observer"] = selfName });

    public void CorruptionChecked(string result) => Metrics.CorruptionCheck(result);

    public void LeaseReleasedOnDisconnect(long leaseId, string peer)
    {
        Metrics.LeaseReleasedOnDisconnect();
        Write(JournalEvents.LeaseReleasedOnDisconnect, selfName, "client went away",
            new Dictionary<string, object> { ["lease_id"] = leaseId.ToString("x", CultureInfo.InvariantCulture), ["peer"] = peer });
    }

    public void PeerConnectionRefused(string remote, string reason) =>
        Write(JournalEvents.PeerConnectionRefused, selfName, reason, new Dictionary<string, object> { ["remote"] = remote });

    public void CorruptionDetected(ulong memberId, string reason, IReadOnlyDictionary<string, object> details)
    {
        var fields = new Dictionary<string, object>(details) { ["member_id"] = memberId.ToString("x", CultureInfo.InvariantCulture), ["observer"] = selfName };
        Write(JournalEvents.CorruptionDetected, NameOf(memberId), reason, fields);
    }

    public void LeaderSuspected(ulong leader, TimeSpan silence, double phi) =>
        Write(JournalEvents.LeaderSuspected, NameOf(leader), "leader silent beyond its usual gaps",
            new Dictionary<string, object> { ["silence_ms"] = Math.Round(silence.TotalMilliseconds, 1), ["phi"] = Math.Round(phi, 2), ["observer"] = selfName });

    public void LeaderNotCommittingReported(ulong leader, ulong term, ulong commit, int reports) =>
        Write(JournalEvents.LeaderNotCommitting, NameOf(leader), "leader keeps sending but does not commit while entries are pending",
            NoProgressFields(term, commit, reports));

    public void CampaignForNoProgress(ulong leader, ulong term, ulong commit, int reports) =>
        Write(JournalEvents.NoProgressCampaign, NameOf(leader), "a quorum of voters reports the leader not committing",
            NoProgressFields(term, commit, reports));

    private Dictionary<string, object> NoProgressFields(ulong term, ulong commit, int reports) =>
        new() { ["term"] = term, ["commit"] = commit, ["reports"] = reports, ["observer"] = selfName };

    public void LeadershipTransferredForHealth(ulong target, string reason, IReadOnlyDictionary<string, object> fields)
    {
        var all = new Dictionary<string, object>(fields) { ["target_name"] = NameOf(target) };
        Write(JournalEvents.HealthTransfer, selfName, reason, all);
    }

    private TimeSpan Now() => TimeSpan.FromSeconds(time.GetTimestamp() / (double)time.TimestampFrequency);

    private void Sample()
    {
        if (node is not { } host || Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        try
        {
            lock (sampling)
            {
                SampleOnce(host);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // Sampling is best effort: a node shutting down under us is not an error worth stopping the timer for.
            _ = e;
        }
    }

    private void SampleOnce(NodeHost host)
    {
        var status = host.Status;
        var now = Now();
        var wall = time.GetUtcNow();
        lock (gate)
        {
            foreach (var member in host.Members)
            {
                names[member.Id] = member.Name;
                if (member.Id != selfId)
                {
                    Peers.Track(member.Id, member.Name);
                }
            }

            var previous = last;
            if (previous is null || previous.Role != status.Role)
            {
                var kind = status.Role switch
                {
                    Role.Leader => JournalEvents.BecameLeader,
                    Role.Candidate or Role.PreCandidate => JournalEvents.BecameCandidate,
                    _ => JournalEvents.BecameFollower,
                };
                Write(kind, selfName, null, new Dictionary<string, object> { ["term"] = status.Term, ["role"] = status.Role.ToString() }, wall);
            }

            if (previous is null || previous.Leader != status.Leader)
            {
                if (status.Leader != 0)
                {
                    var leaderName = NameOf(status.Leader);
                    leaders.AddLast(new LeaderChange(wall, status.Term, status.Leader, leaderName));
                    while (leaders.Count > 50)
                    {
                        leaders.RemoveFirst();
                    }

                    Write(JournalEvents.LeaderChanged, selfName, null,
                        new Dictionary<string, object> { ["leader"] = leaderName, ["leader_id"] = status.Leader.ToString("x", CultureInfo.InvariantCulture), ["term"] = status.Term }, wall);
                }
            }

            Volatile.Write(ref last, status);
            applyHistory.AddLast((now, status.Applied));
            while (applyHistory.Count > 2 && now - applyHistory.First!.Value.At > TimeSpan.FromSeconds(5))
            {
                applyHistory.RemoveFirst();
            }

            // Our outbound connection to each peer is kept whatever our role: judged by it, a follower sees a fellow
            // follower go down, and a leader that stepped down still sees the peers it lost.
            var transport = host.PeerTransportStats();
            foreach (var link in transport)
            {
                Peers.ConnectionState(link.PeerId, link.Connected, now);
            }

            var peers = Peers.Evaluate(now, id => status.Role == Role.Leader || id == status.Leader);
            foreach (var peer in peers)
            {
                var before = peerStates.TryGetValue(peer.Id, out var s) ? s : PeerState.Up;
                // A peer we stop expecting traffic from keeps its last judged state: no recovery is claimed without evidence.
                if (peer.Judged && before != peer.State)
                {
                    OnPeerStateChanged(peer, before, wall);
                    peerStates[peer.Id] = peer.State;
                }

                // Losing sight of the leader starts the failover clock before the election does.
                if (peer.Id == status.Leader && peer.State != PeerState.Up)
                {
                    failover.Suspected(peer.Id, now);
                }
            }

            Volatile.Write(ref headerView, new HeaderView(
                [.. names.Values.OrderBy(n => n, StringComparer.Ordinal)],
                [.. peers.Where(p => p.State == PeerState.Down).Select(p => p.Name)]));
            Volatile.Write(ref state, new MetricsState(
                status.Leader != 0,
                status.IsLeader,
                status.Term,
                status.Commit,
                status.Applied,
                status.IsLeader && status.LastIndex > status.Commit ? status.LastIndex - status.Commit : 0,
                host.DiskBytes,
                peers,
                Journal.WriteFailures,
                status.NoSpaceAlarm,
                transport,
                Coordination(host),
                status.CorruptAlarm,
                host.KvDataBytes));
        }
    }

    private static CoordinationStats Coordination(NodeHost host)
    {
        var (granted, revoked) = host.LeaseChanges;
        return new CoordinationStats(host.Watches.Count, host.Watches.UnsyncedCount, granted, revoked, host.Leases.Renewals, host.Leases.Expirations);
    }

    private void OnPeerStateChanged(PeerHealth peer, PeerState before, DateTimeOffset wall)
    {
        var fields = new Dictionary<string, object> { ["phi"] = Math.Round(peer.Phi, 2), ["observer"] = selfName };
        switch (peer.State)
        {
            case PeerState.Suspect:
                ObservabilityLog.PeerDegraded(logger, peer.Name, peer.Id, "SUSPECT", peer.Reason);
                Write(JournalEvents.PeerSuspected, peer.Name, peer.Reason, fields, wall);
                break;
            case PeerState.Down:
                ObservabilityLog.PeerDegraded(logger, peer.Name, peer.Id, "DOWN", peer.Reason);
                Write(JournalEvents.PeerDown, peer.Name, peer.Reason, fields, wall);
                Write(JournalEvents.NodeDown, peer.Name, "judged down by " + selfName + ": " + peer.Reason, null, wall);
                break;
            default:
                ObservabilityLog.PeerRecovered(logger, peer.Name, peer.Id, before.ToString().ToUpperInvariant(), peer.Reason);
                Write(JournalEvents.PeerRecovered, peer.Name, peer.Reason, fields, wall);
                if (before == PeerState.Down)
                {
                    Write(JournalEvents.NodeUp, peer.Name, "heard from again by " + selfName, null, wall);
                }

                break;
        }
    }

    private IReadOnlyList<JournalEvent> JournalHeader(DateTimeOffset now)
    {
        // Called under the journal's lock, possibly while the sampler waits for that lock holding our gate: so read
        // only the immutable view the sampler publishes, never take the gate here.
        var view = Volatile.Read(ref headerView);
        var all = view.All;
        var down = view.Down;
        var header = new List<JournalEvent> { new(now, JournalEvents.ObservationStart, null, null, new Dictionary<string, object> { ["nodes"] = all, ["observer"] = selfName }) };
        header.AddRange(down.Select(n => new JournalEvent(now, JournalEvents.NodeDown, n, "down when this journal file was opened")));
        return header;
    }

    private void Write(string kind, string? nodeName, string? reason, IReadOnlyDictionary<string, object>? fields = null, DateTimeOffset? at = null)
    {
        Journal.Write(new JournalEvent(at ?? time.GetUtcNow(), kind, nodeName, reason, fields));
        Metrics.JournalEvent(kind);
    }

    /// <summary>Stops sampling and journals a clean stop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        if (node is not null)
        {
            Write(JournalEvents.NodeStopped, selfName, "clean shutdown");
        }

        Journal.Dispose();
    }

    private sealed record HeaderView(string[] All, string[] Down);
}
