using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Observability;

/// <summary>Observability log events (ids 1300-1319 are stable: alerts and log pipelines may match on them).</summary>
internal static partial class ObservabilityLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning, Message = "peer {PeerName} ({PeerId:x}) is {PeerState}: {Reason}")]
    public static partial void PeerDegraded(ILogger logger, string peerName, ulong peerId, string peerState, string reason);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "peer {PeerName} ({PeerId:x}) is UP again (was {PreviousState}): {Reason}")]
    public static partial void PeerRecovered(ILogger logger, string peerName, ulong peerId, string previousState, string reason);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "failover: a leader ({Leader:x}) is known again after {Seconds:F3} s")]
    public static partial void FailoverFinished(ILogger logger, ulong leader, double seconds);
}
