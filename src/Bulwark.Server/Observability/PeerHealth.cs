namespace Bulwark.Server.Observability;

/// <summary>One peer as this node sees it now.</summary>
/// <param name="SilenceMs">Milliseconds since its last message (null if none has arrived yet).</param>
/// <param name="RoundTripMs">Latest heartbeat round trip in milliseconds (null if none measured).</param>
/// <param name="Reason">Why the peer is in this state, for people.</param>
/// <param name="Judged">False when neither source says anything: no traffic is expected from the peer now (so its silence
/// says nothing) and this node's connection to it is neither established nor down for long enough.</param>
/// <param name="SmoothedRoundTripMs">Round trips averaged with weight 1/8 for the newest (TCP's SRTT); null if none measured.</param>
public sealed record PeerHealth(ulong Id, string Name, PeerState State, double Phi, double? SilenceMs, double? RoundTripMs, string Reason, bool Judged = true,
    double? SmoothedRoundTripMs = null);
