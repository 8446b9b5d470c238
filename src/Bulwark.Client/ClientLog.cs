using Microsoft.Extensions.Logging;

namespace Bulwark.Client;

/// <summary>The client's log events (ids 4000-4099).</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "{Method} failed on {Endpoint} ({Status}: {Detail}); trying {Next}")]
    public static partial void FailingOver(ILogger logger, string method, string endpoint, string status, string detail, string next);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "{Method} attempt {Attempt} after {Status} on {Endpoint}")]
    public static partial void Retrying(ILogger logger, string method, int attempt, string status, string endpoint);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "leader is member {MemberId:x} at {Endpoint}")]
    public static partial void LeaderFound(ILogger logger, ulong memberId, string endpoint);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "endpoint {Endpoint} did not answer its health probe: {Detail}")]
    public static partial void ProbeFailed(ILogger logger, string endpoint, string detail);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "watch on {Endpoint} broke ({Detail}); resuming on {Next} from revision {Revision}")]
    public static partial void WatchResuming(ILogger logger, string endpoint, string detail, string next, long revision);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "session lease {LeaseId:x} lost: {Reason}")]
    public static partial void SessionLost(ILogger logger, long leaseId, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Debug, Message = "session lease {LeaseId:x} keep-alive failed on {Endpoint}: {Detail}")]
    public static partial void KeepAliveFailed(ILogger logger, long leaseId, string endpoint, string detail);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "{Method} failed on {Endpoint} ({Status}: {Detail}) and is not retried: it may have reached the server")]
    public static partial void NotRetried(ILogger logger, string method, string endpoint, string status, string detail);
}
