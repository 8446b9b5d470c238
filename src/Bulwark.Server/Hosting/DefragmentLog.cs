using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>Log events of Maintenance.Defragment (ids 1090-1094, stable: alerts and tests may match on them).</summary>
internal static partial class DefragmentLog
{
    [LoggerMessage(EventId = 1090, Level = LogLevel.Information, Message = "defragment on node {NodeId:x}: snapshot at index {Index}, snapshot and WAL files {DiskBefore} -> {DiskAfter} bytes ({SnapshotsDeleted} older snapshot files deleted), GC heap {HeapBefore} -> {HeapAfter} bytes")]
    public static partial void Finished(ILogger logger, ulong nodeId, ulong index, long diskBefore, long diskAfter, int snapshotsDeleted, long heapBefore, long heapAfter);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Warning, Message = "defragment on node {NodeId:x} failed, the member keeps serving: {Reason}")]
    public static partial void Failed(ILogger logger, ulong nodeId, string reason);
}
