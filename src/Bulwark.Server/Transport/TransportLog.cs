using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Transport;

/// <summary>Transport log events (ids 1100-1199 are stable: alerts may match on them).</summary>
internal static partial class TransportLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "peer transport of node {LocalId:x} listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, ulong localId, string endpoint);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "connected to peer {PeerId:x} at {Address}")]
    public static partial void Connected(ILogger logger, ulong peerId, string address);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "cannot reach peer {PeerId:x} at {Address}: {Reason}; retrying in {DelayMs} ms")]
    public static partial void DialFailed(ILogger logger, ulong peerId, string address, string reason, long delayMs);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "connection to peer {PeerId:x} lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, ulong peerId, string reason);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Error, Message = "peer {PeerId:x} at {Address} rejected our handshake: {Reason}")]
    public static partial void HandshakeRejectedByPeer(ILogger logger, ulong peerId, string address, string reason);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "rejected inbound peer connection from {Remote}: {Reason}")]
    public static partial void InboundRejected(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "closing inbound connection from peer {PeerId:x}: malformed data: {Reason}")]
    public static partial void InboundMalformed(ILogger logger, ulong peerId, string reason);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Debug, Message = "skipped a message of unknown type {MessageType} from peer {PeerId:x} (a newer member's; this build does not handle it)")]
    public static partial void UnknownMessageSkipped(ILogger logger, byte messageType, ulong peerId);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Warning, Message = "dropped a {Type} message to peer {PeerId:x}: {Reason}")]
    public static partial void MessageDropped(ILogger logger, string type, ulong peerId, string reason);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "snapshot at index {Index} to peer {PeerId:x} failed: {Reason}")]
    public static partial void SnapshotSendFailed(ILogger logger, ulong index, ulong peerId, string reason);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Information, Message = "sent snapshot at index {Index} ({Bytes} bytes) to peer {PeerId:x}")]
    public static partial void SnapshotSent(ILogger logger, ulong index, long bytes, ulong peerId);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Error, Message = "a transport event handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "closing inbound connection from peer {PeerId:x}: snapshot refused: {Reason}")]
    public static partial void SnapshotRefused(ILogger logger, ulong peerId, string reason);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Information, Message = "received snapshot at index {Index} ({Bytes} bytes) from peer {PeerId:x}")]
    public static partial void SnapshotReceived(ILogger logger, ulong index, long bytes, ulong peerId);

    [LoggerMessage(EventId = 1120, Level = LogLevel.Information, Message = "answered a member query from joining member {PeerUrl}: {Members} members")]
    public static partial void MemberQueryAnswered(ILogger logger, string peerUrl, int members);
}
