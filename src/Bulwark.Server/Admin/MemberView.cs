using Bulwark.Server.Observability;

namespace Bulwark.Server.Admin;

/// <summary>
/// One member as the status page shows it: its own status when it answered, how this node judges it, and its vital
/// signs (null when it did not give them: unreachable, or not serving bulwark.v1.Node.Vitals).
/// </summary>
public sealed record MemberView(
    string Id,
    string Name,
    bool Self,
    bool Reachable,
    string Role,
    ulong Term,
    ulong Commit,
    ulong Applied,
    ulong Lag,
    string PeerState,
    double Phi,
    double? RoundTripMs,
    string Reason,
    MemberVitals? Vitals = null);
