namespace Bulwark.Consensus;

/// <summary>
/// A safety invariant of the core was found broken. The host must stop the node (fail-stop): continuing could
/// acknowledge a write that is lost or apply different entries than its peers.
/// </summary>
public sealed class RaftInvariantException(string message) : Exception(message);
