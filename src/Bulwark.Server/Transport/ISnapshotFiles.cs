using Bulwark.Consensus;

namespace Bulwark.Server.Transport;

/// <summary>
/// Where a transport streams snapshots from and to, so neither side ever holds a whole snapshot in memory: the sender
/// reads the stored file chunk by chunk, the receiver writes each chunk to a new file as it arrives. Called on the
/// transport's own tasks (a peer's sender, an inbound connection), never on the host's Raft loop. Without one, a
/// transport sends the data a message carries and hands received data over in memory (tests, tools).
/// </summary>
public interface ISnapshotFiles
{
    /// <summary>
    /// Opens the data of the stored snapshot <paramref name="metadata"/> names, for sending. The stream's
    /// <see cref="Stream.Length"/> is the data's size; reading it to the end verifies it (a damaged file throws).
    /// </summary>
    /// <exception cref="FileNotFoundException">That snapshot is not kept any more.</exception>
    Stream OpenForSending(SnapshotMetadata metadata);

    /// <summary>Starts storing a snapshot arriving from a peer, announced as <paramref name="totalBytes"/> of data.</summary>
    IIncomingSnapshot BeginReceiving(SnapshotMetadata metadata, long totalBytes);
}

/// <summary>
/// One snapshot being received. Disposing it without a successful <see cref="Commit"/> discards everything written
/// (a temporary file is removed), which is what happens to a transfer cut short or refused.
/// </summary>
public interface IIncomingSnapshot : IDisposable
{
    /// <summary>Stores the next bytes of the data.</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>
    /// Called once every byte arrived and was verified: makes the snapshot durable. Returns what the delivered
    /// InstallSnapshot message carries as its data: empty when the snapshot is durable on disk under its index and
    /// term (the host finds it there), the bytes themselves when held in memory, or null when the message must not be
    /// delivered at all (the leader's retry sorts it out).
    /// </summary>
    ReadOnlyMemory<byte>? Commit();
}
