using Bulwark.Consensus;
using Bulwark.Server.Transport;
using Bulwark.Storage;
using Bulwark.Storage.Snapshots;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Lets the peer transport stream snapshots straight between the nodes' snapshot stores: a leader's sender reads the
/// stored file, a follower's inbound connection writes a new one (temporary file, fsync, rename) on its own task, so
/// neither side holds a snapshot in memory and the follower's Raft loop never writes one. The core then gets the
/// InstallSnapshot message with empty data, meaning "durable on disk at this index and term";
/// <see cref="NodeStorage.SaveSnapshot"/> only releases the log and the apply worker restores from the file.
/// </summary>
/// <remarks>
/// A received snapshot is on disk before the core decides whether to install it. That is safe even if it never does
/// (a stale leader's message): a snapshot only ever holds applied, hence committed, state, so a restart that starts
/// from it (the newest file) starts from committed state, and <see cref="NodeStorage.BuildRaftState"/> keeps only the
/// log entries that continue it (releasing the log up to it, so what the leader sends next can follow).
/// </remarks>
internal sealed class NodeSnapshotFiles : ISnapshotFiles
{
    /// <summary>
    /// After a full disk refused a snapshot, further ones are refused at once for this long: the leader retries about
    /// every heartbeat, and each attempt would otherwise fill the disk again before failing.
    /// </summary>
    public static readonly TimeSpan DiskFullCooldown = TimeSpan.FromSeconds(1);

    private readonly NodeStorage storage;
    private readonly TimeProvider clock;
    private long diskFullAt = long.MinValue;

    /// <param name="time">Clock of the disk-full cooldown (the system's by default).</param>
    public NodeSnapshotFiles(NodeStorage storage, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        this.storage = storage;
        clock = time ?? TimeProvider.System;
    }

    public Stream OpenForSending(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return storage.OpenSnapshot(metadata.Index, metadata.Term);
    }

    public IIncomingSnapshot BeginReceiving(SnapshotMetadata metadata, long totalBytes)
    {
        ArgumentNullException.ThrowIfNull(metadata);

        // Sent again (the answer to the first copy was lost, or the core has not taken it yet), or already passed (the
        // core's commit is at least the released index, so it only answers with its commit): the data is skipped, and
        // the message is still delivered so the leader hears where this node stands.
        if (storage.HasSnapshot(metadata.Index, metadata.Term) || metadata.Index <= storage.ReleasedIndex)
        {
            return new Skipped();
        }

        var fullAt = Volatile.Read(ref diskFullAt);
        if (fullAt != long.MinValue && clock.GetElapsedTime(fullAt) < DiskFullCooldown)
        {
            throw new IOException($"the disk was full {clock.GetElapsedTime(fullAt).TotalMilliseconds:F0} ms ago");
        }

        return new Receiving(this, Guard(() => storage.BeginSnapshot(metadata)));
    }

    /// <summary>Runs a write to the snapshot store, noting a full disk for <see cref="DiskFullCooldown"/>.</summary>
    private T Guard<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (DiskFullException)
        {
            NoteDiskFull();
            throw;
        }
    }

    private void NoteDiskFull() => Volatile.Write(ref diskFullAt, clock.GetTimestamp());

    private sealed class Receiving(NodeSnapshotFiles owner, SnapshotWriter writer) : IIncomingSnapshot
    {
        public void Write(ReadOnlySpan<byte> data)
        {
            try
            {
                writer.Write(data);
            }
            catch (DiskFullException)
            {
                owner.NoteDiskFull();
                throw;
            }
        }

        public ReadOnlyMemory<byte>? Commit() => owner.Guard<ReadOnlyMemory<byte>?>(() =>
        {
            owner.storage.CommitSnapshot(writer);
            // Older than the snapshots kept, it was pruned at once: nothing to install, the leader will send a newer one.
            return owner.storage.HasSnapshot(writer.Metadata.Index, writer.Metadata.Term) ? ReadOnlyMemory<byte>.Empty : null;
        });

        public void Dispose() => writer.Dispose();
    }

    private sealed class Skipped : IIncomingSnapshot
    {
        public void Write(ReadOnlySpan<byte> data)
        {
        }

        public ReadOnlyMemory<byte>? Commit() => ReadOnlyMemory<byte>.Empty;

        public void Dispose()
        {
        }
    }
}
