namespace Bulwark.Server.Transport;

/// <summary>A frame or message on the peer wire is malformed: the connection that sent it is closed.</summary>
public sealed class WireFormatException(string message) : Exception(message);
