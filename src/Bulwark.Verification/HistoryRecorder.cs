namespace Bulwark.Verification;

/// <summary>
/// Records a history as clients run. Thread-safe: calls and returns are stamped from one shared counter, so their
/// order is exactly the order in which the recorder saw them (a call recorded after a return truly started after it).
/// Calls never completed are unknown-outcome operations in <see cref="Build"/>.
/// </summary>
public sealed class HistoryRecorder<TInput, TOutput>
    where TOutput : class
{
    private readonly Lock gate = new();
    private readonly Dictionary<long, (int ClientId, TInput Input, long Call)> pending = [];
    private readonly List<Operation<TInput, TOutput>> done = [];
    private long clock;
    private long nextId;

    /// <summary>Records an invocation; returns the operation's id for <see cref="Complete"/> or <see cref="Discard"/>.</summary>
    public long Invoke(int clientId, TInput input)
    {
        lock (gate)
        {
            var id = ++nextId;
            pending[id] = (clientId, input, ++clock);
            return id;
        }
    }

    /// <summary>Records that the call returned <paramref name="output"/>.</summary>
    public void Complete(long id, TOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (gate)
        {
            var (clientId, input, call) = Take(id);
            done.Add(Operation<TInput, TOutput>.Completed(id, clientId, input, output, call, ++clock));
        }
    }

    /// <summary>Records that the call certainly had no effect (e.g. refused before it was proposed): it leaves the history.</summary>
    public void Discard(long id)
    {
        lock (gate)
        {
            Take(id);
        }
    }

    /// <summary>Records that the call's outcome will never be known (timed out, connection lost).</summary>
    public void GiveUp(long id)
    {
        lock (gate)
        {
            var (clientId, input, call) = Take(id);
            done.Add(Operation<TInput, TOutput>.Unknown(id, clientId, input, call));
        }
    }

    public int PendingCount
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    /// <summary>The history so far; calls still pending appear with unknown outcome.</summary>
    public IReadOnlyList<Operation<TInput, TOutput>> Build()
    {
        lock (gate)
        {
            var all = new List<Operation<TInput, TOutput>>(done);
            foreach (var (id, (clientId, input, call)) in pending)
            {
                all.Add(Operation<TInput, TOutput>.Unknown(id, clientId, input, call));
            }

            all.Sort((a, b) => a.Call.CompareTo(b.Call));
            return all;
        }
    }

    private (int ClientId, TInput Input, long Call) Take(long id)
    {
        if (!pending.Remove(id, out var call))
        {
            throw new InvalidOperationException($"operation {id} is not pending (never invoked, or already completed)");
        }

        return call;
    }
}
