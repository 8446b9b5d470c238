namespace Bulwark.Consensus;

/// <summary>
/// Safety invariants checked after every input, in every build: a violation means continuing could lose an
/// acknowledged write or diverge from the peers, so the node stops with <see cref="RaftInvariantException"/>.
/// The log checks its own (commit never past the end, no truncation at or below commit, terms never decrease).
/// </summary>
public sealed partial class RaftNode
{
    private void AssertInvariants()
    {
        if (log.Committed > log.LastIndex)
        {
            Fail($"commit index {log.Committed} is beyond the last index {log.LastIndex}");
        }

        if (log.Committed < lastHardState.Commit)
        {
            Fail($"commit index went back from {lastHardState.Commit} to {log.Committed}");
        }

        if (term < lastHardState.Term)
        {
            Fail($"term went back from {lastHardState.Term} to {term}");
        }

        if (log.Applied > log.Committed)
        {
            Fail($"applied index {log.Applied} is beyond the commit index {log.Committed}");
        }

        if (log.LastTerm > term)
        {
            Fail($"the log holds an entry of term {log.LastTerm}, later than the current term {term}");
        }

        if (role == Role.Leader && (lead != Id || vote != Id))
        {
            Fail($"leader of term {term} has lead={lead:x} and vote={vote:x}; both must be itself");
        }
    }

    private void Fail(string what) => throw new RaftInvariantException($"node {Id:x}: {what}");
}
