using System.Collections.Immutable;
using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>What the Raft loop hands the apply worker, in log order.</summary>
internal abstract record ApplyWork
{
    /// <summary>Committed entries (already durable) to apply to the state machine.</summary>
    public sealed record Entries(ImmutableArray<Entry> Committed) : ApplyWork;

    /// <summary>A snapshot from the leader (already saved to disk) that replaces the state machine.</summary>
    public sealed record Install(Snapshot Snapshot) : ApplyWork;
}
