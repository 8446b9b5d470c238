namespace Bulwark.Server.Hosting;

/// <summary>What one Maintenance.Defragment did on this member (logged, and returned for tests).</summary>
/// <param name="SnapshotIndex">The index of the snapshot written (or found) at the applied index.</param>
/// <param name="DiskBytesBefore">Bytes of the snapshot and WAL files before (<see cref="Bulwark.Storage.NodeStorage.DiskBytes"/>).</param>
/// <param name="DiskBytesAfter">The same after.</param>
/// <param name="SnapshotsDeleted">Older snapshot files deleted.</param>
/// <param name="HeapBytesBefore">The GC heap's size at its last collection before the compacting collection.</param>
/// <param name="HeapBytesAfter">The GC heap's size after it.</param>
public sealed record DefragmentReport(
    ulong SnapshotIndex,
    long DiskBytesBefore,
    long DiskBytesAfter,
    int SnapshotsDeleted,
    long HeapBytesBefore,
    long HeapBytesAfter);
