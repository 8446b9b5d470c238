using System.Diagnostics;
using Bulwark.Verification;

namespace Bulwark.Chaos.Workload;

/// <summary>Everything the clients record: the history (for the checker), every call's event (for windows and the
/// timeline) and the serializable reads (checked apart). Thread-safe.</summary>
public sealed class WorkloadLog
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>Wall-clock time (UTC) of <see cref="Now"/> = 0: ties the run's clock to the members' journals.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    private readonly Lock gate = new();
    private readonly List<OpEvent> events = [];
    private readonly List<SerializableRead> serializable = [];
    private readonly List<Watches.AcknowledgedWrite> acknowledged = [];

    public HistoryRecorder<KvInput, KvOutput> Recorder { get; } = new();

    /// <summary>Milliseconds since the workload started: the clock of events and faults.</summary>
    public double Now => clock.Elapsed.TotalMilliseconds;

    public void Add(OpEvent e)
    {
        lock (gate)
        {
            events.Add(e);
        }
    }

    public void AddSerializable(SerializableRead read)
    {
        lock (gate)
        {
            serializable.Add(read);
        }
    }

    /// <summary>A put the cluster acknowledged at <paramref name="revision"/> (for the watch check).</summary>
    public void Acknowledged(string key, string value, long revision)
    {
        lock (gate)
        {
            acknowledged.Add(new Watches.AcknowledgedWrite(key, value, revision));
        }
    }

    public IReadOnlyList<Watches.AcknowledgedWrite> AcknowledgedWrites
    {
        get
        {
            lock (gate)
            {
                return [.. acknowledged];
            }
        }
    }

    public IReadOnlyList<OpEvent> Events
    {
        get
        {
            lock (gate)
            {
                return [.. events];
            }
        }
    }

    public IReadOnlyList<SerializableRead> SerializableReads
    {
        get
        {
            lock (gate)
            {
                return [.. serializable];
            }
        }
    }
}
