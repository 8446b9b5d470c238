using Microsoft.Extensions.Logging;

namespace Bulwark.Client.Hosting;

/// <summary>Log events of <see cref="LeaderBackgroundService"/> (ids 1400-1406, stable: tests and alerts match on them).</summary>
internal static partial class LeaderLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "election {Election}: campaigning as {Value} (lease {LeaseId:x}, ttl {TtlSeconds} s, release on disconnect {ReleaseOnDisconnect})")]
    public static partial void Campaigning(ILogger logger, string election, string value, long leaseId, double ttlSeconds, bool releaseOnDisconnect);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "election {Election}: won leadership as {Value}, fencing token {TokenKey}@{TokenRevision}, at unix-ms {UnixMs}")]
    public static partial void Won(ILogger logger, string election, string value, string tokenKey, long tokenRevision, long unixMs);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "election {Election}: leadership with token {TokenRevision} ended: {Reason}")]
    public static partial void Ended(ILogger logger, string election, long tokenRevision, string reason);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "election {Election}: resigned leadership with token {TokenRevision}")]
    public static partial void Resigned(ILogger logger, string election, long tokenRevision);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "election {Election}: could not resign token {TokenRevision} (its lease ends it anyway): {Reason}")]
    public static partial void ResignFailed(ILogger logger, string election, long tokenRevision, string reason);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "election {Election}: campaign failed, again in {DelayMs} ms: {Reason}")]
    public static partial void CampaignFailed(ILogger logger, string election, double delayMs, string reason);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Error, Message = "election {Election}: the leader's work failed with token {TokenRevision}; stepping down")]
    public static partial void WorkFailed(ILogger logger, Exception exception, string election, long tokenRevision);
}
