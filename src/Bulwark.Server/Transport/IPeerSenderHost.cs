using Bulwark.Consensus;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Transport;

/// <summary>What a <see cref="PeerSender"/> needs from its transport: settings, clock, totals and the callbacks.</summary>
internal interface IPeerSenderHost
{
    PeerTransportOptions Options { get; }

    TimeProvider Time { get; }

    ILogger Logger { get; }

    TransportCounters Totals { get; }

    /// <summary>Where snapshots without inline data are read from, or null (send what the message carries).</summary>
    ISnapshotFiles? SnapshotFiles { get; }

    void OnUnreachable(ulong peerId);

    /// <summary>An established connection to the peer closed, or a dial was refused: the peer's process likely died.</summary>
    void OnConnectionLost(ulong peerId);

    /// <summary>A forwarded client request (Propose or ReadIndex) was dropped before any byte of it was sent.</summary>
    void OnRequestUndelivered(Message message);

    void OnSnapshotFailed(ulong peerId, Message message, string reason);

    /// <summary>The last byte of a snapshot to the peer was written: its acknowledgement is due soon.</summary>
    void OnSnapshotSent(ulong peerId);

    void OnHandshakeRejected(ulong peerId, string reason);
}
