using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// The client history of a run. Calls and returns are stamped with virtual time (microseconds) scaled by 1024
/// plus an event counter, so stamps are strictly increasing in event order yet still read as times.
/// </summary>
public sealed class SimHistory(EventScheduler scheduler)
{
    private readonly Dictionary<long, (int Client, KvInput Input, long Call)> pending = [];
    private readonly List<Operation<KvInput, KvOutput>> operations = [];
    private readonly HashSet<long> acknowledgedWrites = [];
    private long lastStamp;
    private long nextId;

    public IReadOnlyCollection<long> AcknowledgedWrites => acknowledgedWrites;

    public int Completed { get; private set; }

    public int Unknown { get; private set; }

    public int Discarded { get; private set; }

    /// <summary>Acknowledged compare-and-sets that swapped, and that found another value (so tests can tell both happened).</summary>
    public int SwapsSucceeded { get; private set; }

    public int SwapsFailed { get; private set; }

    public long Invoke(int client, KvInput input)
    {
        var id = ++nextId;
        pending[id] = (client, input, Stamp());
        return id;
    }

    public void Complete(long id, KvOutput output)
    {
        var (client, input, call) = Take(id);
        operations.Add(Operation<KvInput, KvOutput>.Completed(id, client, input, output, call, Stamp()));
        Completed++;
        if (input.Kind == KvOperationKind.CompareAndSet)
        {
            if (output.Succeeded)
            {
                SwapsSucceeded++;
            }
            else
            {
                SwapsFailed++;
            }
        }

        if (input.Kind != KvOperationKind.Get)
        {
            acknowledgedWrites.Add(id);
        }
    }

    /// <summary>The call certainly had no effect (refused, or a read that never got an answer).</summary>
    public void Discard(long id)
    {
        Take(id);
        Discarded++;
    }

    /// <summary>The call timed out: it may take effect at any time after its invocation, or never.</summary>
    public void GiveUp(long id)
    {
        var (client, input, call) = Take(id);
        operations.Add(Operation<KvInput, KvOutput>.Unknown(id, client, input, call));
        Unknown++;
    }

    public IReadOnlyList<Operation<KvInput, KvOutput>> Build()
    {
        var all = new List<Operation<KvInput, KvOutput>>(operations);
        foreach (var (id, (client, input, call)) in pending.OrderBy(p => p.Key))
        {
            if (input.Kind != KvOperationKind.Get)
            {
                all.Add(Operation<KvInput, KvOutput>.Unknown(id, client, input, call));
            }
        }

        return all;
    }

    private long Stamp() => lastStamp = Math.Max(lastStamp + 1, scheduler.Now * 1024);

    private (int Client, KvInput Input, long Call) Take(long id) =>
        pending.Remove(id, out var call) ? call : throw new SimulationException($"operation {id} is not pending");
}
