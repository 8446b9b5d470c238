using Bulwark.Consensus;
using Bulwark.Server.Transport;
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
/// log entries that continue it.
/// </remarks>
internal sealed class NodeSnapshotFiles(NodeStorage storage) : ISnapshotFiles
{
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
        return storage.HasSnapshot(metadata.Index, metadata.Term) || metadata.Index <= storage.ReleasedIndex
            ? new Skipped()
            : new Receiving(storage, storage.BeginSnapshot(metadata));
    }

    private sealed class Receiving(NodeStorage storage, SnapshotWriter writer) : IIncomingSnapshot
    {
        public void Write(ReadOnlySpan<byte> data) => writer.Write(data);

        public ReadOnlyMemory<byte>? Commit()
        {
            storage.CommitSnapshot(writer);
            // Older than the snapshots kept, it was pruned at once: nothing to install, the leader will send a newer one.
            return storage.HasSnapshot(writer.Metadata.Index, writer.Metadata.Term) ? ReadOnlyMemory<byte>.Empty : null;
        }

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
