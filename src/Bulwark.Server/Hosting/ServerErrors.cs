namespace Bulwark.Server.Hosting;

/// <summary>
/// Why the node refused a client request or could not finish it. The host raises these as <see cref="NodeException"/>;
/// the API layer maps each, in one place (Api/NodeErrorStatus.cs), to the gRPC status and message etcd gives for it.
/// </summary>
public enum NodeError
{
    /// <summary>No leader is known: an election is under way, or a majority is unreachable.</summary>
    NoLeader,

    /// <summary>The request was not applied (or its read point not confirmed) within the request timeout.</summary>
    Timeout,

    /// <summary>Leadership moved while the request was being proposed.</summary>
    LeaderChanged,

    /// <summary>The node is too far behind to take more: applying lags, too much is uncommitted, or its request queue is full.</summary>
    TooManyRequests,

    /// <summary>
    /// This member is still applying entries committed before it (re)started or sent to it in bulk by the leader: it
    /// takes nothing new until it caught up, and the client should retry or use another member. Not overload.
    /// </summary>
    CatchingUp,

    /// <summary>This member's NOSPACE alarm is raised, so it refuses writes.</summary>
    NoSpace,

    /// <summary>A linearizable read on a member whose Raft loop a full disk has paused: it fails at once instead of hanging.</summary>
    DiskBlocked,

    /// <summary>The node stopped (shut down, or fail-stop); <see cref="NodeException.Reason"/> says why.</summary>
    Stopped,
}

/// <summary>A client request the node refused or could not finish (no gRPC here: the API layer maps it).</summary>
public sealed class NodeException : Exception
{
    public NodeException(NodeError error, string message, string? reason = null)
        : base(message)
    {
        Error = error;
        Reason = reason;
    }

    public NodeError Error { get; }

    /// <summary>For <see cref="NodeError.Stopped"/>: why the node stopped.</summary>
    public string? Reason { get; }

    /// <summary>
    /// True when the request was refused before it reached any log (no leader known, queue full, disk full, applying
    /// too far behind, the core refused it): it surely never takes effect, so a client may send it again elsewhere.
    /// Any error after the core took it (forwarded or appended) leaves the outcome open, and is never marked so.
    /// </summary>
    public bool NeverProposed { get; private init; }

    /// <summary>This error, marked as refused before proposing (see <see cref="NeverProposed"/>).</summary>
    public NodeException AsNeverProposed() => new(Error, Message, Reason) { NeverProposed = true };
}

/// <summary>The node-level errors the host raises (see <see cref="NodeError"/>).</summary>
public static class ServerErrors
{
    public static NodeException NoLeader() => new(NodeError.NoLeader, "no leader");

    public static NodeException Timeout() => new(NodeError.Timeout, "request timed out");

    public static NodeException LeaderChanged() => new(NodeError.LeaderChanged, "leader changed");

    public static NodeException TooManyRequests() => new(NodeError.TooManyRequests, "too many requests");

    /// <summary>The member's NOSPACE alarm is raised, so it refuses writes.</summary>
    public static NodeException CatchingUp() => new(NodeError.CatchingUp, "member is catching up");

    public static NodeException NoSpace() => new(NodeError.NoSpace, "database space exceeded (alarm NOSPACE)");

    /// <summary>A linearizable read on a member whose Raft loop is paused by a full disk.</summary>
    public static NodeException DiskBlocked() =>
        new(NodeError.DiskBlocked, "this member cannot write to its disk (alarm NOSPACE), so it cannot serve linearizable reads");

    public static NodeException Stopped(string why) => new(NodeError.Stopped, $"server stopped ({why})", why);
}
