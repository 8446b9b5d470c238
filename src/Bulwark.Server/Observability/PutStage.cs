namespace Bulwark.Server.Observability;

/// <summary>
/// The boundaries a put crosses on its way through a member, in the order they happen on a lone client's put
/// (<see cref="PutStageTrace"/>). Leader stages come first, then a follower's; the Ready stages are both.
/// </summary>
public enum PutStage
{
    /// <summary>Leader: the gRPC KV.Put handler was entered.</summary>
    GrpcEntered,

    /// <summary>Leader: the proposal was validated and is handed to the loop (posted on its request channel).</summary>
    Posted,

    /// <summary>Leader: the loop took the proposal from its channel.</summary>
    LoopTaken,

    /// <summary>Leader: the core appended it (its index is known).</summary>
    Proposed,

    /// <summary>Follower: the append carrying the entry was decoded from the peer connection.</summary>
    AppendReceived,

    /// <summary>Follower: the loop stepped that append into the core.</summary>
    AppendStepped,

    /// <summary>Both: the core's Ready carrying the entry was taken.</summary>
    ReadyTaken,

    /// <summary>Leader: the Ready's appends to followers were handed to the transport (before the WAL write).</summary>
    AppendsHanded,

    /// <summary>Both: the WAL write (no sync yet) of the Ready returned.</summary>
    WalWritten,

    /// <summary>Leader: the first peer sender flushed an append carrying the entry to its socket.</summary>
    AppendsOnSocket,

    /// <summary>Leader: the first follower acknowledgement covering the entry was decoded from a peer connection.</summary>
    AckReceived,

    /// <summary>Both: the Ready's fdatasync returned.</summary>
    Synced,

    /// <summary>Follower: its acknowledgement was handed to the transport (after its sync).</summary>
    AckHanded,

    /// <summary>Follower: its acknowledgement was flushed to the socket.</summary>
    AckOnSocket,

    /// <summary>Leader: the loop stepped the first acknowledgement covering the entry into the core.</summary>
    AckStepped,

    /// <summary>Leader: a Ready with the entry committed was taken and the entry handed to the apply worker.</summary>
    CommitHanded,

    /// <summary>Leader: the apply worker began the batch holding the entry.</summary>
    ApplyStarted,

    /// <summary>Leader: the batch was applied to the store (under the store lock, watchers not yet told).</summary>
    Applied,

    /// <summary>Leader: the waiting call's completion was signalled.</summary>
    Completed,

    /// <summary>Leader: the gRPC handler resumed with the result (the response is then serialized and written by Kestrel).</summary>
    Resumed,
}
