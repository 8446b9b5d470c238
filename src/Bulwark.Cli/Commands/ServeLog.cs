using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark serve` log events (ids 1050-1069 are stable).</summary>
internal static partial class ServeLog
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "serving the etcd v3 API for member {Name} ({NodeId:x}) on {ClientUrls}; peers on {PeerUrl}; data in {DataDir}")]
    public static partial void Serving(ILogger logger, string name, ulong nodeId, string clientUrls, string peerUrl, string dataDir);

    [LoggerMessage(EventId = 1055, Level = LogLevel.Information, Message = "client API listening on {ClientUrls} (admin on {MetricsUrl}); answering \"catching up\" until the node has started")]
    public static partial void ClientApiListening(ILogger logger, string clientUrls, string metricsUrl);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Information, Message = "shutting down on request")]
    public static partial void ShuttingDown(ILogger logger);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Critical, Message = "refusing to start: storage corruption in {File} at offset {Offset}: {Reason}")]
    public static partial void Corrupt(ILogger logger, string file, long offset, string reason);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Critical, Message = "cannot start: {Reason}")]
    public static partial void StartFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 1054, Level = LogLevel.Critical, Message = "node stopped itself (fail-stop); exiting with code {ExitCode}: {Reason}")]
    public static partial void FailStopExit(ILogger logger, int exitCode, string reason);

    [LoggerMessage(EventId = 1060, Level = LogLevel.Critical, Message = "the member has been permanently removed from the cluster; exiting with code {ExitCode}: {Reason}")]
    public static partial void RemovedExit(ILogger logger, int exitCode, string reason);

    [LoggerMessage(EventId = 1062, Level = LogLevel.Warning, Message = "UNSAFE: fault injection is ON (--unsafe-fault-injection): POST {Path} on the metrics listener can delay or fail fsync, fake a full disk and jump this member's clock. Never run a member holding real data this way.")]
    public static partial void FaultInjectionOn(ILogger logger, string path);

    [LoggerMessage(EventId = 1061, Level = LogLevel.Critical, Message = "cannot join the cluster: {Reason}")]
    public static partial void JoinFailed(ILogger logger, string reason);
}
