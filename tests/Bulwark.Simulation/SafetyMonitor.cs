using System.Collections.Immutable;
using Bulwark.Consensus;

namespace Bulwark.Simulation;

/// <summary>
/// Raft's safety properties, checked as the run goes (fed by every host) and over the final logs:
/// election safety (at most one leader per term), log matching, leader completeness and state machine safety.
/// Violations are collected, not thrown, so a run reports all it saw.
/// </summary>
public sealed class SafetyMonitor(Func<long> now)
{
    private const int MaxViolations = 20;
    private readonly Dictionary<ulong, ulong> leaderOfTerm = [];
    private readonly Dictionary<ulong, (ulong Term, ulong Hash, ulong Node)> appliedAt = [];
    private readonly Dictionary<(ulong Index, ulong Term), ulong> entryHash = [];
    // Highest commit index any node reported while at a given term: those entries were committed in that term or before.
    private readonly SortedDictionary<ulong, ulong> commitKnownAtTerm = [];
    private readonly Dictionary<ulong, (ulong Term, ulong Node)> committedTerm = [];
    private readonly List<string> violations = [];
    // The store's revision and content hash after each applied index (the first node to apply it decides), and each
    // node's last applied (index, revision) since it last restarted or installed a snapshot.
    private readonly Dictionary<ulong, (long Revision, ulong Hash, ulong Node)> stateAt = [];
    private readonly Dictionary<ulong, (ulong Index, long Revision)> lastAppliedState = [];

    public IReadOnlyList<string> Violations => violations;

    public int LeadersElected => leaderOfTerm.Count;

    /// <summary>The node that led <paramref name="term"/> (0 if no node led it, as far as the run saw).</summary>
    public ulong LeaderOf(ulong term) => leaderOfTerm.GetValueOrDefault(term);

    public ulong HighestApplied { get; private set; }

    public void OnLeader(ulong node, ulong term, DiskImage log)
    {
        if (leaderOfTerm.TryGetValue(term, out var other) && other != node)
        {
            Fail($"election safety: nodes {other} and {node} are both leader of term {term}");
        }

        leaderOfTerm[term] = node;
        CheckLeaderCompleteness(node, term, log);
    }

    /// <summary>How often a leader advanced its commit index to an entry of an earlier term.</summary>
    public int OldTermCommits { get; private set; }

    /// <summary>
    /// The commit rule (dissertation §3.6.2): a leader commits by counting replicas only an entry of its own term;
    /// earlier entries become committed with it. Committing an older entry by count is unsafe (Figure 3.7).
    /// </summary>
    public void OnLeaderCommittedOldTerm(ulong node, ulong term, ulong commit, ulong entryTerm)
    {
        OldTermCommits++;
        Fail($"commit rule: node {node}, leader of term {term}, advanced its commit index to {commit}, an entry of term {entryTerm}");
    }

    public void OnAppend(ulong node, ImmutableArray<Entry> entries)
    {
        foreach (var entry in entries)
        {
            var hash = Hash(entry);
            if (entryHash.TryGetValue((entry.Index, entry.Term), out var known))
            {
                if (known != hash)
                {
                    Fail($"log matching: node {node} wrote a different entry {entry} than another node at the same index and term");
                }
            }
            else
            {
                entryHash[(entry.Index, entry.Term)] = hash;
            }
        }
    }

    /// <summary>A node's hard state: its commit index (whose entry has <paramref name="commitTerm"/> in its log) is committed.</summary>
    public void OnHardState(ulong node, HardState state, ulong commitTerm)
    {
        if (state.Commit == 0)
        {
            return;
        }

        if (commitTerm != 0)
        {
            if (committedTerm.TryGetValue(state.Commit, out var known) && known.Term != commitTerm)
            {
                Fail($"state machine safety: node {node} holds index {state.Commit} committed with term {commitTerm}, but node {known.Node} committed it with term {known.Term}");
            }
            else
            {
                committedTerm[state.Commit] = (commitTerm, node);
            }
        }

        if (!commitKnownAtTerm.TryGetValue(state.Term, out var commit) || commit < state.Commit)
        {
            commitKnownAtTerm[state.Term] = state.Commit;
        }
    }

    public void OnApply(ulong node, Entry entry)
    {
        var hash = Hash(entry);
        if (appliedAt.TryGetValue(entry.Index, out var first))
        {
            if (first.Term != entry.Term || first.Hash != hash)
            {
                Fail($"state machine safety: node {node} applied {entry} at index {entry.Index} but node {first.Node} applied an entry of term {first.Term} there");
            }
        }
        else
        {
            appliedAt[entry.Index] = (entry.Term, hash, node);
            HighestApplied = Math.Max(HighestApplied, entry.Index);
        }
    }

    /// <summary>
    /// After applying the entry at <paramref name="index"/>, a member's store must be exactly every other member's at
    /// that index (same revision, same content hash, history included), and a member's revision never goes down as
    /// its applied index goes up.
    /// </summary>
    public void OnAppliedState(ulong node, ulong index, long revision, ulong contentHash)
    {
        if (stateAt.TryGetValue(index, out var first))
        {
            if (first.Revision != revision || first.Hash != contentHash)
            {
                Fail($"state machine safety: after index {index} node {node}'s store is at revision {revision} (hash {contentHash:x16}) but node {first.Node}'s was at revision {first.Revision} (hash {first.Hash:x16})");
            }
        }
        else
        {
            stateAt[index] = (revision, contentHash, node);
        }

        if (lastAppliedState.TryGetValue(node, out var last) && index > last.Index && revision < last.Revision)
        {
            Fail($"revisions: node {node}'s store went from revision {last.Revision} at index {last.Index} down to {revision} at index {index}");
        }

        lastAppliedState[node] = (index, revision);
    }

    /// <summary>Log matching over whole logs: if two logs hold an entry with the same index and term, they agree on every entry before it.</summary>
    public void CheckLogMatching(IReadOnlyList<(ulong Node, DiskImage Log)> logs)
    {
        for (var a = 0; a < logs.Count; a++)
        {
            for (var b = a + 1; b < logs.Count; b++)
            {
                CheckPair(logs[a], logs[b]);
            }
        }
    }

    public void Fail(string violation)
    {
        if (violations.Count < MaxViolations)
        {
            violations.Add($"[t={now() / 1000.0:F1}ms] {violation}");
        }
    }

    private void CheckLeaderCompleteness(ulong node, ulong term, DiskImage log)
    {
        ulong mustHave = 0;
        foreach (var (commitTerm, commit) in commitKnownAtTerm)
        {
            if (commitTerm >= term)
            {
                break;
            }

            mustHave = Math.Max(mustHave, commit);
        }

        var floor = log.Snapshot?.Index ?? 0;
        if (mustHave > log.LastIndex)
        {
            Fail($"leader completeness: node {node} became leader of term {term} with last index {log.LastIndex}, but index {mustHave} was committed in an earlier term");
            return;
        }

        foreach (var entry in log.Entries)
        {
            if (entry.Index > mustHave)
            {
                break;
            }

            var committed = appliedAt.TryGetValue(entry.Index, out var applied) ? applied.Term
                : committedTerm.TryGetValue(entry.Index, out var known) ? known.Term : 0;
            if (entry.Index > floor && committed != 0 && committed != entry.Term)
            {
                Fail($"leader completeness: node {node} became leader of term {term} holding {entry}, but the committed entry there has term {committed}");
                return;
            }
        }
    }

    private void CheckPair((ulong Node, DiskImage Log) a, (ulong Node, DiskImage Log) b)
    {
        var bByIndex = new Dictionary<ulong, Entry>(b.Log.Entries.Count);
        foreach (var e in b.Log.Entries)
        {
            bByIndex[e.Index] = e;
        }

        // Walk a's log from the newest entry; once a common (index, term) is found, everything below must agree.
        var matched = false;
        for (var i = a.Log.Entries.Count - 1; i >= 0; i--)
        {
            var ea = a.Log.Entries[i];
            if (!bByIndex.TryGetValue(ea.Index, out var eb))
            {
                continue;
            }

            if (!matched)
            {
                matched = ea.Term == eb.Term;
                if (!matched)
                {
                    continue;
                }
            }

            if (ea.Term != eb.Term || Hash(ea) != Hash(eb))
            {
                Fail($"log matching: nodes {a.Node} and {b.Node} share a later entry but differ at index {ea.Index} ({ea} vs {eb})");
                return;
            }
        }
    }

    private static ulong Hash(Entry entry)
    {
        var hash = new TraceHash();
        hash.Add((long)entry.Type);
        hash.Add(entry.Data.Span);
        return hash.Value;
    }
}
