using System.Globalization;

namespace Bulwark.Server.Observability;

/// <summary>
/// Per-peer failure detection from two sources. Messages: a <see cref="PhiAccrualDetector"/> fed by every message from
/// the peer, and heartbeat round trips (a Heartbeat sent to the peer matched with its HeartbeatResponse); silence is
/// judged only for peers this node should hear from right now (all of them on the leader, the leader on a follower), as
/// a follower's fellow followers send it nothing in a healthy cluster. Connection: this node's own outbound connection
/// to each peer (<see cref="ConnectionState"/>), which every member keeps to every peer whatever its role; a peer it
/// cannot connect to for longer than the down threshold is DOWN on every member, also on a follower about a fellow
/// follower and on a former leader that stepped down. Thread-safe.
/// </summary>
public sealed class PeerHealthTracker
{
    private readonly object gate = new();
    private readonly Dictionary<ulong, Peer> peers = [];
    private readonly double suspectPhi;
    private readonly TimeSpan downAfter;
    private readonly Func<PhiAccrualDetector> newDetector;
    private readonly TimeSpan startupGrace;

    /// <summary>The default startup grace: time for the other members of a cluster started together to come up.</summary>
    public static readonly TimeSpan DefaultStartupGrace = TimeSpan.FromSeconds(10);

    /// <param name="suspectPhi">Phi at or above which a peer is SUSPECT.</param>
    /// <param name="downAfter">Silence after which a peer is DOWN.</param>
    /// <param name="heartbeatInterval">The expected message period, which sets the detector's tolerances.</param>
    /// <param name="startupGrace">How long after its first connection report a peer never connected to is not judged by
    /// its connection: members of a cluster start one after the other, and one still starting is not down.</param>
    public PeerHealthTracker(double suspectPhi, TimeSpan downAfter, TimeSpan heartbeatInterval, TimeSpan? startupGrace = null)
    {
        this.startupGrace = startupGrace ?? DefaultStartupGrace;
        if (this.startupGrace < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(startupGrace), startupGrace, "startup grace must not be negative");
        }

        if (suspectPhi <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(suspectPhi), suspectPhi, "suspicion threshold must be positive");
        }

        if (downAfter <= TimeSpan.Zero || heartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(downAfter), "down threshold and heartbeat interval must be positive");
        }

        this.suspectPhi = suspectPhi;
        this.downAfter = downAfter;
        // Generous tolerances (a deviation floor of one interval, three intervals of acceptable pause): on a loaded machine
        // a few late heartbeats are normal and must not flap peers between UP and SUSPECT.
        newDetector = () => new PhiAccrualDetector(100, heartbeatInterval, heartbeatInterval * 3);
    }

    /// <summary>Phi at or above which a peer is SUSPECT.</summary>
    public double SuspectPhi => suspectPhi;

    /// <summary>Silence after which a peer is DOWN.</summary>
    public TimeSpan DownAfter => downAfter;

    /// <summary>Makes <paramref name="id"/> known under <paramref name="name"/> (idempotent).</summary>
    public void Track(ulong id, string name)
    {
        lock (gate)
        {
            if (!peers.TryGetValue(id, out var peer))
            {
                peers[id] = new Peer(name, newDetector());
            }
            else
            {
                peer.Name = name;
            }
        }
    }

    public void MessageFrom(ulong id, TimeSpan now, bool isHeartbeatResponse)
    {
        lock (gate)
        {
            if (!peers.TryGetValue(id, out var peer))
            {
                return;
            }

            if (peer.Detector.LastArrival is not { } last || now >= last)
            {
                peer.Detector.Heartbeat(now);
            }

            if (isHeartbeatResponse && peer.HeartbeatSentAt is { } sent && now >= sent)
            {
                var rtt = now - sent;
                peer.RoundTrip = rtt;
                // TCP's smoothing (RFC 6298): one slow round trip moves the average by an eighth of the difference.
                peer.SmoothedRoundTrip = peer.SmoothedRoundTrip is { } srtt ? srtt + ((rtt - srtt) / 8) : rtt;
                peer.HeartbeatSentAt = null;
            }
        }
    }

    /// <summary>
    /// Whether this node's outbound connection to <paramref name="id"/> is established at <paramref name="now"/> (reported
    /// on every sample; the transport redials a lost connection at once, so "not connected" for long means unreachable).
    /// </summary>
    public void ConnectionState(ulong id, bool connected, TimeSpan now)
    {
        lock (gate)
        {
            if (!peers.TryGetValue(id, out var peer))
            {
                return;
            }

            peer.FirstConnectionReport ??= now;
            if (connected)
            {
                peer.EverConnected = true;
                peer.UnreachableSince = null;
                peer.Connected = true;
            }
            else
            {
                peer.UnreachableSince ??= now;
                peer.Connected = false;
            }
        }
    }

    public void HeartbeatSent(ulong id, TimeSpan now)
    {
        lock (gate)
        {
            // Keep the oldest unanswered send: a lost response then shows up as a long round trip, not a short one.
            if (peers.TryGetValue(id, out var peer) && peer.HeartbeatSentAt is null)
            {
                peer.HeartbeatSentAt = now;
            }
        }
    }

    /// <summary>Latest round trip to <paramref name="id"/>, if one was measured.</summary>
    public TimeSpan? RoundTrip(ulong id)
    {
        lock (gate)
        {
            return peers.TryGetValue(id, out var peer) ? peer.RoundTrip : null;
        }
    }

    /// <summary>Judges every peer at <paramref name="now"/>; <paramref name="expectsTraffic"/> says whom this node should hear from.</summary>
    public IReadOnlyList<PeerHealth> Evaluate(TimeSpan now, Func<ulong, bool> expectsTraffic)
    {
        ArgumentNullException.ThrowIfNull(expectsTraffic);
        lock (gate)
        {
            var result = new List<PeerHealth>(peers.Count);
            foreach (var (id, peer) in peers.OrderBy(p => p.Key))
            {
                var expected = expectsTraffic(id);
                if (!expected)
                {
                    peer.ExpectingSince = null;
                }
                else
                {
                    peer.ExpectingSince ??= now;
                }

                // Silence counts from when traffic became due: a peer that just became our leader (or a follower of ours)
                // is not late for the time it had no reason to talk to us.
                var lastArrival = peer.Detector.LastArrival;
                var from = lastArrival is { } heard && peer.ExpectingSince is { } due ? (heard > due ? heard : due) : lastArrival ?? peer.ExpectingSince;
                double? silence = from is { } f ? (now - f).TotalMilliseconds : null;
                var phi = lastArrival is { } l && silence is { } quiet ? peer.Detector.Phi(l + TimeSpan.FromMilliseconds(quiet)) : 0;
                double? rtt = peer.RoundTrip?.TotalMilliseconds;
                PeerState state;
                string reason;
                var judged = expected;
                if (UnreachableFor(peer, now) is { } cut && !(expected && silence is { } quietFor && quietFor >= downAfter.TotalMilliseconds))
                {
                    // Whatever we expect from the peer, we cannot reach it. (When its silence says DOWN as well, that
                    // older evidence is the reason given, below.)
                    state = PeerState.Down;
                    judged = true;
                    reason = peer.EverConnected
                        ? string.Create(CultureInfo.InvariantCulture, $"no connection for {cut.TotalMilliseconds:F0} ms (down after {downAfter.TotalMilliseconds:F0} ms)")
                        : string.Create(CultureInfo.InvariantCulture, $"never connected in {cut.TotalMilliseconds:F0} ms (down after {downAfter.TotalMilliseconds:F0} ms)");
                }
                else if (!expected)
                {
                    state = PeerState.Up;
                    phi = 0;
                    var expectation = lastArrival is { } seen
                        ? string.Create(CultureInfo.InvariantCulture, $"no traffic expected from it now (last message {(now - seen).TotalMilliseconds:F0} ms ago)")
                        : "no traffic expected from it now";
                    if (peer.Connected)
                    {
                        // Connected and not expected to talk: the connection is the evidence that it is up.
                        judged = true;
                        reason = "connected; " + expectation;
                    }
                    else if (peer.UnreachableSince is { } lost)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture,
                            $"not judged yet: not connected for {(now - lost).TotalMilliseconds:F0} ms (down after {downAfter.TotalMilliseconds:F0} ms); {expectation}");
                    }
                    else
                    {
                        reason = "not judged: " + expectation;
                    }
                }
                else if (silence is null)
                {
                    state = PeerState.Up;
                    reason = "no message expected yet";
                }
                else if (silence.Value >= downAfter.TotalMilliseconds)
                {
                    state = PeerState.Down;
                    reason = lastArrival is null
                        ? string.Create(CultureInfo.InvariantCulture, $"never heard from in {silence.Value:F0} ms (down after {downAfter.TotalMilliseconds:F0} ms)")
                        : string.Create(CultureInfo.InvariantCulture, $"silent for {silence.Value:F0} ms (down after {downAfter.TotalMilliseconds:F0} ms), phi {phi:F1}");
                }
                else if (phi >= suspectPhi)
                {
                    state = PeerState.Suspect;
                    reason = string.Create(CultureInfo.InvariantCulture, $"phi {phi:F1} >= {suspectPhi:F1}: silent for {silence.Value:F0} ms, usual gap {peer.Detector.MeanIntervalMs:F0} ms");
                }
                else
                {
                    state = PeerState.Up;
                    reason = lastArrival is null
                        ? string.Create(CultureInfo.InvariantCulture, $"no message yet (expected for {silence.Value:F0} ms)")
                        : string.Create(CultureInfo.InvariantCulture, $"last message {silence.Value:F0} ms ago, phi {phi:F1}");
                }

                result.Add(new PeerHealth(id, peer.Name, state, phi, silence, rtt, reason, judged, peer.SmoothedRoundTrip?.TotalMilliseconds));
            }

            return result;
        }
    }

    /// <summary>How long the peer has been unreachable if that is long enough to call it DOWN, otherwise null.</summary>
    private TimeSpan? UnreachableFor(Peer peer, TimeSpan now)
    {
        if (peer.UnreachableSince is not { } since || now - since < downAfter)
        {
            return null;
        }

        // A peer never reached yet may still be starting: judge it only after the grace (from our first report).
        if (!peer.EverConnected && peer.FirstConnectionReport is { } first && now - first < startupGrace)
        {
            return null;
        }

        return now - since;
    }

    private sealed class Peer(string name, PhiAccrualDetector detector)
    {
        public string Name { get; set; } = name;

        public PhiAccrualDetector Detector { get; } = detector;

        public TimeSpan? HeartbeatSentAt { get; set; }

        public TimeSpan? RoundTrip { get; set; }

        public TimeSpan? SmoothedRoundTrip { get; set; }

        /// <summary>When the transport first reported the connection's state (null: never, the connection is not judged).</summary>
        public TimeSpan? FirstConnectionReport { get; set; }

        /// <summary>Since when the outbound connection has been down (null while connected or never reported).</summary>
        public TimeSpan? UnreachableSince { get; set; }

        public bool Connected { get; set; }

        public bool EverConnected { get; set; }

        /// <summary>Since when this node has expected messages from the peer (null while it expects none).</summary>
        public TimeSpan? ExpectingSince { get; set; }
    }
}
