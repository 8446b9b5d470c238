using Microsoft.Extensions.Logging;

namespace MasterBackup.Worker;

/// <summary>The worker's log lines (the sample's tests and bench/takeover.sh match on "master ..." and "fencing: write refused").</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "worker starting: {Settings}")]
    public static partial void Starting(ILogger logger, WorkerSettings settings);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "master {Instance}: token {Token}, last record {LastN}, continuing at {Next}")]
    public static partial void Mastering(ILogger logger, string instance, long token, long lastN, long next);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "fencing: write refused for record {N} with token {Token} (no longer the master, or the number is taken); stepping down")]
    public static partial void Refused(ILogger logger, long n, long token);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "record {N}: the write's outcome is unknown ({Reason}); the next write re-reads the last record first")]
    public static partial void Unknown(ILogger logger, long n, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "master {Instance}: stopped appending at record {LastN} (token {Token})")]
    public static partial void Stopped(ILogger logger, string instance, long lastN, long token);
}
