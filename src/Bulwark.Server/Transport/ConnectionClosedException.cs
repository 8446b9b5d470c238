namespace Bulwark.Server.Transport;

/// <summary>A peer connection ended while frames were still to be written.</summary>
internal sealed class ConnectionClosedException(string message) : IOException(message);
