namespace Bulwark.Server.Admin;

/// <summary>One member as the status page shows it: its own status when it answered, and how this node judges it.</summary>
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
    string Reason);
