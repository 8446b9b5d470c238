using Bulwark.Consensus;
using Bulwark.Verification;

namespace Bulwark.Simulation;

public enum ClientReplyKind
{
    /// <summary>The call took effect (writes) or was served (reads); Output says what it returned.</summary>
    Ok = 0,

    /// <summary>The node refused before proposing (no leader, transfer, ...): the call certainly had no effect.</summary>
    Refused = 1,

    /// <summary>The node is down: the call never reached it.</summary>
    Unavailable = 2,
}

/// <summary>What a node tells a client.</summary>
public sealed record ClientReply(ClientReplyKind Kind, KvOutput? Output = null, ProposeStatus Status = ProposeStatus.Accepted)
{
    /// <summary>A multi-key read's values, in the order of the keys asked for.</summary>
    public IReadOnlyList<KvOutput> Outputs { get; init; } = [];

    /// <summary>An auth refusal's message (etcd's "permission denied", "revision of auth store is old"); null otherwise.</summary>
    public string? AuthError { get; init; }

    /// <summary>The store revision the answer reflects (the response header's revision).</summary>
    public long Revision { get; init; }

    public static ClientReply Unavailable { get; } = new(ClientReplyKind.Unavailable);

    public static ClientReply Ok(KvOutput output, long revision) => new(ClientReplyKind.Ok, output) { Revision = revision };

    public static ClientReply OkMany(IReadOnlyList<KvOutput> outputs, long revision) =>
        new(ClientReplyKind.Ok, outputs[0]) { Outputs = outputs, Revision = revision };

    public static ClientReply Refused(ProposeStatus status) => new(ClientReplyKind.Refused, Status: status);

    /// <summary>Auth refused the call (at the API or when its command applied): it certainly had no effect.</summary>
    public static ClientReply Denied(string message) => new(ClientReplyKind.Refused) { AuthError = message };
}
