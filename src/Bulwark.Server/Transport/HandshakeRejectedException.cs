namespace Bulwark.Server.Transport;

/// <summary>A peer refused our handshake (different cluster id, or we dialed the wrong node).</summary>
public sealed class HandshakeRejectedException(string message) : Exception(message);
