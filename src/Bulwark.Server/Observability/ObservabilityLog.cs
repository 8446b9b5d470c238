using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>Observability log events (ids 1100-1119 are stable: alerts and log pipelines may match on them).</summary>
internal static partial class ObservabilityLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "peer {PeerName} ({PeerId:x}) is {PeerState}: {Reason}")]
    public static partial void PeerDegraded(ILogger logger, string peerName, ulong peerId, string peerState, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "peer {PeerName} ({PeerId:x}) is UP again (was {PreviousState}): {Reason}")]
    public static partial void PeerRecovered(ILogger logger, string peerName, ulong peerId, string previousState, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "failover: a leader ({Leader:x}) is known again after {Seconds:F3} s")]
    public static partial void FailoverFinished(ILogger logger, ulong leader, double seconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "admin endpoint (metrics, health, status page) listening on {Url}")]
    public static partial void AdminListening(ILogger logger, string url);
}
