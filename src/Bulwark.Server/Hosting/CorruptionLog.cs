using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>Log events of the corruption check and the CORRUPT alarm (ids 1030-1049, stable: alerts and tests may match on them).</summary>
internal static partial class CorruptionLog
{
    [LoggerMessage(EventId = 1030, Level = LogLevel.Information, Message = "corruption check enabled on node {NodeId:x}: the leader compares every member's HashKV every {IntervalMs} ms")]
    public static partial void Enabled(ILogger logger, ulong nodeId, long intervalMs);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Debug, Message = "corruption check at revision {Revision}: {Compared} of {Peers} peers compared, hashes agree")]
    public static partial void Passed(ILogger logger, long revision, int compared, int peers);

    [LoggerMessage(EventId = 1032, Level = LogLevel.Error, Message = "corruption check found member {MemberId:x} inconsistent: {Reason}")]
    public static partial void Mismatch(ILogger logger, ulong memberId, string reason);

    [LoggerMessage(EventId = 1033, Level = LogLevel.Warning, Message = "corruption check could not finish: {Reason}")]
    public static partial void Failed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1034, Level = LogLevel.Error, Message = "ALARM CORRUPT raised for member {MemberId:x}: every member refuses writes until an operator disarms it (etcdctl alarm disarm) after restoring that member")]
    public static partial void AlarmRaised(ILogger logger, ulong memberId);

    [LoggerMessage(EventId = 1035, Level = LogLevel.Warning, Message = "ALARM CORRUPT for member {MemberId:x} disarmed; writes resume once no CORRUPT alarm is left")]
    public static partial void AlarmCleared(ILogger logger, ulong memberId);

    [LoggerMessage(EventId = 1036, Level = LogLevel.Critical, Message = "TEST-ONLY corruption hook: overwrote the value of key {Key} in this member's store, bypassing the log")]
    public static partial void TestCorruptionDone(ILogger logger, string key);
}
