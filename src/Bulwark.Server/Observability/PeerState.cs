namespace Bulwark.Server.Observability;

/// <summary>How a node judges one peer.</summary>
public enum PeerState
{
    /// <summary>Messages arrive as expected (or none are expected from it right now).</summary>
    Up,

    /// <summary>Phi crossed the suspicion threshold: later than usual, not yet declared down.</summary>
    Suspect,

    /// <summary>Silent for longer than the down threshold.</summary>
    Down,
}
